//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Testing

@testable import SlotgateProxy

/// The rules by which `INFO` speaks for the whole service, on reports as masters write them.
@Suite struct InfoMergeTests {
    private static func report(usedMemory: Int, ratio: String, keys: Int, huge: String) -> String {
        "# Clients\r\nconnected_clients:7\r\n\r\n# Memory\r\nused_memory:\(usedMemory)\r\nused_memory_human:x\r\n"
            + "mem_fragmentation_ratio:\(ratio)\r\nhuge:\(huge)\r\nmaxmemory_policy:noeviction\r\n\r\n"
            + "# Keyspace\r\ndb0:keys=\(keys),expires=1,avg_ttl=\(keys * 10)\r\n"
    }

    @Test func sectionsFollowTheirRules() {
        var clients = ClientFigures()
        clients.connected = 3
        clients.blocked = 1
        let merged = InfoMerge.merge(
            [
                Self.report(usedMemory: 1024, ratio: "1.50", keys: 2, huge: "18446744073709551615"),
                Self.report(usedMemory: 2048, ratio: "2.25", keys: 5, huge: "inf"),
            ],
            proxySection: nil,
            service: ServiceFigures(clients: clients, maxClients: 100)
        )
        let lines = Set(merged.split(separator: "\r\n").map(String.init))
        #expect(lines.isSuperset(of: ["connected_clients:3", "blocked_clients:1", "maxclients:100"]))
        #expect(lines.isSuperset(of: ["used_memory:3072", "used_memory_human:3.00K", "mem_fragmentation_ratio:2.25"]))
        #expect(lines.isSuperset(of: ["maxmemory_policy:noeviction", "huge:inf", "db0:keys=7,expires=2,avg_ttl=50"]))
        #expect(!lines.contains("connected_clients:7"), "the masters' own client counts are not shown")
    }

    @Test func commandAndErrorCountsAddUp() {
        let first =
            "# Commandstats\r\ncmdstat_get:calls=2,usec=10,usec_per_call=5.00,rejected_calls=0,failed_calls=0\r\n\r\n"
            + "# Errorstats\r\nerrorstat_ERR:count=1\r\n\r\n# Memory\r\nnumber_of_cached_scripts:4\r\n"
        let second =
            "# Commandstats\r\ncmdstat_get:calls=3,usec=5,usec_per_call=1.67,rejected_calls=1,failed_calls=0\r\n"
            + "cmdstat_set:calls=1,usec=2,usec_per_call=2.00,rejected_calls=0,failed_calls=0\r\n\r\n"
            + "# Errorstats\r\nerrorstat_ERR:count=2\r\nerrorstat_MY:count=1\r\n\r\n# Memory\r\nnumber_of_cached_scripts:4\r\n"
        let merged = InfoMerge.merge([first, second], proxySection: nil, service: ServiceFigures(clients: ClientFigures(), maxClients: 1))
        let lines = Set(merged.split(separator: "\r\n").map(String.init))
        #expect(lines.contains("cmdstat_get:calls=5,usec=15,usec_per_call=3.00,rejected_calls=1,failed_calls=0"))
        #expect(lines.contains("cmdstat_set:calls=1,usec=2,usec_per_call=2.00,rejected_calls=0,failed_calls=0"))
        #expect(lines.isSuperset(of: ["errorstat_ERR:count=3", "errorstat_MY:count=1", "number_of_cached_scripts:4"]))
    }
}
