//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import SlotgateCluster
import SlotgateRESP
import Testing

extension LiveClusterSuite {
    /// Cluster-aware clients pointed at Slotgate see a one-node cluster at Slotgate's own address,
    /// send it everything, and are never redirected.
    @Suite struct ClusterClientTests {
        /// redis-py's `RedisCluster` and `redis-cli -c`, run by `Tests/clients/cluster_client_workload.py`
        /// (redis-py is installed by deploy/ensure-deps.sh, which the cluster start runs).
        @Test func redisPyClusterClientAndRedisCliAreNeverRedirected() throws {
            let (_, proxy) = try liveCluster()
            try ClientWorkload.run("run_cluster_client_workload.sh", port: proxy.port, summaryPrefix: "OK: redis-py")
        }

        @Test func clusterSubcommandsDescribeOneNodeOwningEverySlot() throws {
            let (cluster, proxy) = try liveCluster()
            let client = try proxy.connect()
            let port = proxy.port

            // MYID: a 40-hex-digit id, the same one that SLOTS, SHARDS and NODES give.
            let id = try #require(try client.command(["CLUSTER", "MYID"]).bulkText, "CLUSTER MYID")
            #expect(id.count == 40 && id.allSatisfy { $0.isHexDigit && !$0.isUppercase }, "node id \(id)")
            #expect(try !cluster.nodes.map { try cluster.nodeID($0) }.contains(id), "the proxy must not reuse a node's id")

            #expect(
                try client.command(["CLUSTER", "SLOTS"])
                    == .array([.array([.integer(0), .integer(HashSlot.count - 1), .array([bulk("127.0.0.1"), .integer(port), bulk(id)])])])
            )

            let shards = try client.command(["CLUSTER", "SHARDS"])
            let shard = try #require(shards.array?.first?.keyValuePairs, "CLUSTER SHARDS: \(shards)")
            #expect(shards.array?.count == 1)
            #expect(shard.map(\.key) == ["slots", "nodes"])
            #expect(shard.first { $0.key == "slots" }?.value == .array([.integer(0), .integer(HashSlot.count - 1)]))
            let shardNodes = try #require(shard.first { $0.key == "nodes" }?.value.array, "CLUSTER SHARDS nodes")
            #expect(shardNodes.count == 1)
            let node = Dictionary(shardNodes.first?.keyValuePairs?.map { ($0.key, $0.value) } ?? [], uniquingKeysWith: { first, _ in first })
            #expect(node["id"] == bulk(id))
            #expect(node["port"] == .integer(port))
            #expect(node["ip"] == bulk("127.0.0.1"))
            #expect(node["endpoint"] == bulk("127.0.0.1"))
            #expect(node["role"] == bulk("master"))
            #expect(node["health"] == bulk("online"))

            // NODES: one line, "<id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slots>".
            let nodes = try #require(try client.command(["CLUSTER", "NODES"]).bulkText, "CLUSTER NODES")
            let lines = nodes.split(separator: "\n")
            #expect(lines.count == 1, "CLUSTER NODES: \(nodes)")
            let fields = lines.first?.split(separator: " ").map(String.init) ?? []
            #expect(fields.count == 9, "CLUSTER NODES line: \(nodes)")
            if fields.count == 9 {
                #expect(fields[0] == id)
                #expect(fields[1].hasPrefix("127.0.0.1:\(port)@"), "address \(fields[1])")
                #expect(Set(fields[2].split(separator: ",")) == ["myself", "master"], "flags \(fields[2])")
                #expect(fields[3] == "-")
                #expect(fields[7] == "connected")
                #expect(fields[8] == "0-\(HashSlot.count - 1)")
            }

            let info = try #require(try client.command(["CLUSTER", "INFO"]).bulkText, "CLUSTER INFO")
            var infoFields: [String: String] = [:]
            for line in info.split(whereSeparator: \.isNewline) {
                let parts = line.split(separator: ":", maxSplits: 1).map(String.init)
                if parts.count == 2 { infoFields[parts[0]] = parts[1] }
            }
            #expect(infoFields["cluster_enabled"] == "1")
            #expect(infoFields["cluster_state"] == "ok")
            #expect(infoFields["cluster_slots_assigned"] == "16384")
            #expect(infoFields["cluster_slots_ok"] == "16384")
            #expect(infoFields["cluster_known_nodes"] == "1")
            #expect(infoFields["cluster_size"] == "1")

            // KEYSLOT: computed by the proxy, equal to what a real node says, hash-tag edge cases included.
            #expect(try client.command(["CLUSTER", "KEYSLOT", "foo"]) == .integer(12182))
            let direct = try cluster.connect(cluster.nodes[0])
            for key in ["foo", "{user1000}.following", "{}foo", "foo{}{bar}", "{{bar}}", "a{b", "{a}{b}", ""] {
                #expect(try client.command(["CLUSTER", "KEYSLOT", key]) == direct.command(["CLUSTER", "KEYSLOT", key]), "KEYSLOT \(key)")
            }
        }

        @Test func keysInSlotQueriesAnswerAsTheSlotOwnerDoes() throws {
            let (cluster, proxy) = try liveCluster()
            let client = try proxy.connect()
            let map = try cluster.slotMap()
            // One hash tag per master, 25 keys each, so every master's answer is compared.
            var tagsByOwner: [NodeAddress: String] = [:]
            for candidate in 0..<10_000 where tagsByOwner.count < 3 {
                let tag = "ccslot\(candidate)"
                if let owner = map.master(for: HashSlot(key: tag)), tagsByOwner[owner] == nil { tagsByOwner[owner] = tag }
            }
            #expect(tagsByOwner.count == 3)
            for (owner, tag) in tagsByOwner {
                let keys = (0..<25).map { "{\(tag)}:\($0)" }
                #expect(try client.command(["MSET"] + keys.flatMap { [$0, "v"] }) == .simpleString("OK"))
                let slot = String(HashSlot(key: tag).rawValue)
                let ownerConnection = try cluster.connect(owner)
                for query in [
                    ["CLUSTER", "COUNTKEYSINSLOT", slot], ["CLUSTER", "GETKEYSINSLOT", slot, "10"], ["CLUSTER", "GETKEYSINSLOT", slot, "100"],
                ] {
                    let viaProxy = try client.command(query)
                    #expect(viaProxy == (try ownerConnection.command(query)), "\(query.joined(separator: " ")) (owner \(owner))")
                    #expect(viaProxy.errorText == nil, "\(query.joined(separator: " ")): \(viaProxy)")
                }
                #expect(try client.command(["CLUSTER", "COUNTKEYSINSLOT", slot]).int ?? 0 >= 25)
                let listed = try client.command(["CLUSTER", "GETKEYSINSLOT", slot, "100"]).array?.compactMap(\.string) ?? []
                #expect(Set(keys).isSubset(of: Set(listed)), "GETKEYSINSLOT \(slot) lists \(listed)")
                #expect(try client.command(["DEL"] + keys) == .integer(25))
            }
            // An empty slot (found by asking the owners directly), and slots out of range.
            var owners: [NodeAddress: BlockingRedisConnection] = [:]
            var emptySlot: Int?
            for slot in 0..<HashSlot.count {
                let owner = try #require(map.master(for: HashSlot(rawValue: slot)!))
                if owners[owner] == nil { owners[owner] = try cluster.connect(owner) }
                if try owners[owner]!.command(["CLUSTER", "COUNTKEYSINSLOT", String(slot)]) == .integer(0) {
                    emptySlot = slot
                    break
                }
            }
            let empty = try #require(emptySlot, "no empty slot")
            #expect(try client.command(["CLUSTER", "COUNTKEYSINSLOT", String(empty)]) == .integer(0))
            #expect(try client.command(["CLUSTER", "GETKEYSINSLOT", String(empty), "10"]) == .array([]))
            #expect(try client.command(["CLUSTER", "COUNTKEYSINSLOT", "16384"]) == .error("ERR Invalid slot"))
            #expect(try client.command(["CLUSTER", "COUNTKEYSINSLOT", "-1"]) == .error("ERR Invalid slot"))
        }
    }
}

private func bulk(_ text: String) -> RESPValue {
    .bulkString(Array(text.utf8))
}

extension RESPValue {
    /// The text of a bulk string reply only (so an error reply is not mistaken for a value).
    fileprivate var bulkText: String? {
        if case .bulkString(let bytes) = self { return String(decoding: bytes, as: UTF8.self) }
        return nil
    }

    /// The text of an error reply, `nil` for other kinds.
    var errorText: String? {
        if case .error(let text) = self { return text }
        return nil
    }
}
