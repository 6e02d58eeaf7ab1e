//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateCluster
import Testing

/// Protects which replicas count as fit to serve reads, read from a master's `INFO replication`.
@Suite("ReadTargets")
struct ReadTargetsTests {
    @Test("online replicas within the lag limit are healthy; syncing, lagging and malformed ones are not")
    func onlineReplicas() {
        let info = """
            # Replication\r
            role:master\r
            connected_slaves:4\r
            slave0:ip=127.0.0.1,port=7003,state=online,offset=621156,lag=0\r
            slave1:ip=127.0.0.1,port=7004,state=wait_bgsave,offset=0,lag=0\r
            slave2:ip=127.0.0.1,port=7005,state=online,offset=600000,lag=12\r
            slave3:ip=,port=7006,state=online,offset=621156,lag=1\r
            slave4:ip=127.0.0.1,state=online,lag=0\r
            master_repl_offset:621156\r
            """
        #expect(
            ReadTargets.onlineReplicas(infoReplication: info, maxLag: 10, queriedHost: "10.0.0.1") == [
                NodeAddress(host: "127.0.0.1", port: 7003), NodeAddress(host: "10.0.0.1", port: 7006),
            ]
        )
        #expect(ReadTargets.onlineReplicas(infoReplication: info, maxLag: 20, queriedHost: "h").count == 3)
        #expect(ReadTargets.onlineReplicas(infoReplication: "role:slave\r\n", maxLag: 10, queriedHost: "h").isEmpty)
    }

    @Test("before any measurement, no replica is healthy and each shard's nearest node is its master")
    func mastersOnly() {
        let map = SlotMap(ranges: [
            (0...8191, SlotMap.Shard(master: NodeAddress(host: "a", port: 1), replicas: [NodeAddress(host: "b", port: 2)])),
            (8192...16383, SlotMap.Shard(master: NodeAddress(host: "c", port: 3), replicas: [])),
        ])
        let targets = ReadTargets(mastersOf: map)
        #expect(targets.healthyReplicas == [[], []])
        #expect(targets.nearest == [NodeAddress(host: "a", port: 1), NodeAddress(host: "c", port: 3)])
    }
}
