//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import SlotgateCluster
import SlotgateProxy
import SlotgateRESP
import Testing

extension LiveClusterSuite {
    /// `INFO` through Slotgate speaks for the whole service, section by section.
    @Suite struct InfoTests {
        @Test func clientsSectionCountsSlotgatesClients() async throws {
            let (_, proxy) = try liveCluster()
            let observer = try proxy.connect()
            let blocked = try proxy.connect()
            try blocked.append(["BLPOP", "{info-blocked}:list", "5"])
            try blocked.flush()
            let subscriber = try proxy.connect()
            _ = try subscriber.command(["SUBSCRIBE", "info:channel"])
            var clients: [String: String] = [:]
            for _ in 0..<100 where clients["blocked_clients"] != "1" {
                clients = try Self.fields(observer, "clients")
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(clients["blocked_clients"] == "1")
            #expect(clients["pubsub_clients"] == "1")
            #expect(clients["maxclients"] == "10000")
            #expect(clients["connected_clients"].flatMap(Int.init).map { $0 >= 3 } == true, "\(clients)")
            #expect(
                Array(clients.keys).sorted()
                    == [
                        "blocked_clients", "client_recent_max_input_buffer", "client_recent_max_output_buffer", "clients_in_timeout_table",
                        "cluster_connections", "connected_clients", "maxclients", "pubsub_clients", "tracking_clients",
                    ]
            )
            #expect(try observer.command(["RPUSH", "{info-blocked}:list", "x"]) == .integer(1))
            #expect(try blocked.readReply() == .array([.bulkString(Array("{info-blocked}:list".utf8)), .bulkString(Array("x".utf8))]))
        }

        @Test func statsAndMemoryAddUpTheMasters() throws {
            let (cluster, proxy) = try liveCluster()
            let client = try proxy.connect()
            for index in 0..<30 {
                #expect(try client.command(["SET", "info:hit:\(index)", "v"]) == .simpleString("OK"))
                #expect(try client.command(["GET", "info:hit:\(index)"]).string == "v")
            }
            let masters = try cluster.slotMap().shards.map(\.master)
            let direct = try masters.map { try Self.fields(cluster.connect($0), "stats") }
            let merged = try Self.fields(client, "stats")
            #expect(merged["keyspace_hits"].flatMap(Int.init) == direct.reduce(0) { $0 + (Int($1["keyspace_hits"] ?? "") ?? 0) })
            #expect(merged["keyspace_misses"].flatMap(Int.init) == direct.reduce(0) { $0 + (Int($1["keyspace_misses"] ?? "") ?? 0) })
            #expect(merged.keys.count == direct[0].keys.count, "the fields a master prints")

            let memory = try Self.fields(client, "memory")
            let used = try #require(memory["used_memory"].flatMap(Int.init))
            let largest = try masters.map { Int(try Self.fields(cluster.connect($0), "memory")["used_memory"] ?? "") ?? 0 }.max() ?? 0
            #expect(used > largest, "the masters' memory added up")
            #expect(memory["used_memory_human"]?.last.map { "KMG".contains($0) } == true)
            #expect(memory["maxmemory_policy"] == "noeviction")
        }

        @Test func resetStatStartsSlotgatesCountersAgain() throws {
            let (_, proxy) = try liveCluster()
            let client = try proxy.connect()
            #expect(try client.command(["CONFIG", "RESETSTAT"]) == .simpleString("OK"))
            var others: [BlockingRedisConnection] = []
            for _ in 0..<3 {
                let other = try proxy.connect()
                #expect(try other.command(["PING"]) == .simpleString("PONG"))
                others.append(other)
            }
            let stats = try Self.fields(client, "stats")
            #expect(stats["total_connections_received"] == "3", "\(stats)")
            #expect(stats["rejected_connections"] == "0")
        }

        /// The `field:value` lines of one `INFO` section.
        private static func fields(_ connection: BlockingRedisConnection, _ section: String) throws -> [String: String] {
            let text = try #require(try connection.command(["INFO", section]).string)
            return Dictionary(
                text.split(whereSeparator: \.isNewline).compactMap { line -> (String, String)? in
                    guard !line.hasPrefix("#"), let colon = line.firstIndex(of: ":") else { return nil }
                    return (String(line[..<colon]), String(line[line.index(after: colon)...]))
                },
                uniquingKeysWith: { first, _ in first }
            )
        }
    }
}
