//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import SlotgateCluster
import SlotgateConfiguration
import SlotgateProxy
import SlotgateRESP
import Testing

extension LiveClusterSuite {
    /// `CONFIG SET` and `CONFIG RESETSTAT` through Slotgate change every node, as they would
    /// change one server.
    @Suite struct NodeConfigTests {
        /// Every node, masters and replicas, has the change when `+OK` comes back.
        @Test func configSetReachesEveryNodeMastersAndReplicas() async throws {
            let (cluster, proxy) = try liveCluster()
            let client = try proxy.connect()
            defer { _ = try? client.command(["CONFIG", "SET", "hash-max-listpack-entries", "128", "set-max-intset-entries", "512"]) }
            #expect(try client.command(["CONFIG", "SET", "hash-max-listpack-entries", "77", "set-max-intset-entries", "99"]) == .simpleString("OK"))
            for node in cluster.nodes {
                #expect(try Self.parameters(cluster, node) == ["hash-max-listpack-entries": "77", "set-max-intset-entries": "99"], "\(node)")
            }
            // CONFIG GET still asks one node, which now agrees with the others.
            #expect(
                try client.command(["CONFIG", "GET", "hash-max-listpack-entries"])
                    == .array([.bulkString(Array("hash-max-listpack-entries".utf8)), .bulkString(Array("77".utf8))])
            )
        }

        static func parameters(_ cluster: LocalCluster, _ node: NodeAddress) throws -> [String: String] {
            let reply = try cluster.connect(node).command(["CONFIG", "GET", "*-max-*-entries"]).array ?? []
            let pairs = stride(from: 0, to: reply.count - 1, by: 2).map { (reply[$0].string ?? "", reply[$0 + 1].string ?? "") }
            return Dictionary(pairs, uniquingKeysWith: { first, _ in first }).filter {
                ["hash-max-listpack-entries", "set-max-intset-entries"].contains($0.key)
            }
        }

        @Test func aValueTheNodesRefuseNamesThemAndChangesNothing() throws {
            let (cluster, proxy) = try liveCluster()
            let client = try proxy.connect()
            let reply = try client.command(["CONFIG", "SET", "maxmemory-policy", "no-such-policy"])
            let message = try #require(reply.errorText)
            #expect(message.hasPrefix("ERR CONFIG SET refused by 127.0.0.1:"))
            #expect(message.contains("(ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy')"))
            #expect(message.hasSuffix("; taken by no node"))
            #expect(try cluster.slotMap().shards.allSatisfy { message.contains("\($0.master) (") }, "every master is named: \(message)")
            #expect(try cluster.connect(cluster.nodes[0]).command(["CONFIG", "GET", "maxmemory-policy"]).array?.last?.string == "noeviction")
        }

        @Test func parametersThatWouldBreakTheClusterAreRefused() throws {
            let (cluster, proxy) = try liveCluster()
            let client = try proxy.connect()
            for parameter in ["port", "dir", "requirepass", "replicaof", "cluster-node-timeout", "tls-port", "CLUSTER-ANNOUNCE-IP"] {
                let message = try #require(try client.command(["CONFIG", "SET", parameter, "1"]).errorText, "\(parameter)")
                #expect(
                    message
                        == "ERR CONFIG SET '\(parameter.lowercased())' is not available through Slotgate: it would break the cluster or Slotgate's links to it; set it on the nodes"
                )
            }
            // One refused parameter refuses the whole command: nothing reaches the nodes.
            #expect(try client.command(["CONFIG", "SET", "hz", "11", "dir", "/tmp"]).errorText?.contains("'dir'") == true)
            #expect(try cluster.connect(cluster.nodes[0]).command(["CONFIG", "GET", "hz"]).array?.last?.string == "10")
            #expect(try client.command(["CONFIG", "SET", "hz"]) == .error("ERR wrong number of arguments for 'config|set' command"))
            #expect(try client.command(["PING"]) == .simpleString("PONG"))
        }

        @Test func resetStatResetsEveryMaster() throws {
            let (cluster, proxy) = try liveCluster()
            let client = try proxy.connect()
            let masters = try cluster.slotMap().shards.map(\.master)
            for node in masters {
                _ = try cluster.connect(node).command(["PING"])
            }
            #expect(try client.command(["CONFIG", "RESETSTAT"]) == .simpleString("OK"))
            for node in masters {
                let stats = try cluster.connect(node).command(["INFO", "commandstats"]).string ?? ""
                #expect(!stats.contains("cmdstat_ping"), "node \(node) still counts the PING sent before the reset")
            }
        }

        @Test func operatorsCanKeepConfigSetRefused() async throws {
            let (cluster, _) = try liveCluster()
            let proxy = try await ProxyUnderTest.start(seeds: [cluster.nodes[0]]) { $0.configSetBroadcast = false }
            let reply = try proxy.connect().command(["CONFIG", "SET", "hz", "12"])
            try await proxy.stop()
            #expect(
                reply
                    == .error(
                        "ERR 'CONFIG SET' is not available through Slotgate: a setting would change on one node only (config-set-broadcast is no)"
                    )
            )
            #expect(try cluster.connect(cluster.nodes[0]).command(["CONFIG", "GET", "hz"]).array?.last?.string == "10")
        }
    }
}

extension LiveClusterSuite.TopologyChangeTests {
    /// In a new cluster that has taken no write, `CLUSTER SLOTS` lists no replica (Redis 7 waits
    /// for a replication offset); `CLUSTER NODES` does. A `CONFIG SET` sent as soon as Slotgate
    /// serves has reached every replica when it answers `+OK`.
    @Test func configSetRightAfterStartReachesReplicasClusterSlotsDoesNotListYet() async throws {
        try await Self.withOwnCluster(nodeTimeout: 5000) { cluster, proxy in
            let listedBySlots = try cluster.slotMap().allNodes.count
            let client = try proxy.connect()
            #expect(try client.command(["CONFIG", "SET", "hash-max-listpack-entries", "66"]) == .simpleString("OK"))
            for node in cluster.nodes {
                #expect(try LiveClusterSuite.NodeConfigTests.parameters(cluster, node)["hash-max-listpack-entries"] == "66", "\(node)")
            }
            print("CONFIG SET right after start: every one of \(cluster.nodes.count) nodes took it; CLUSTER SLOTS listed \(listedBySlots) then")
        }
    }

    /// A node that restarts comes back with its file's settings; Slotgate gives it what clients set
    /// through `CONFIG SET` at the next topology refresh.
    @Test func restartedNodeGetsTheParametersSetThroughSlotgate() async throws {
        try await Self.withOwnCluster(nodeTimeout: 15000) { cluster, proxy in
            let master = try #require(try cluster.slotMap().shards.first?.master)
            let replica = try #require(try cluster.replicas(of: master).first)
            #expect(try proxy.connect().command(["CONFIG", "SET", "list-max-listpack-size", "-3"]) == .simpleString("OK"))
            let runID = { (node: NodeAddress) in LocalCluster.field("run_id", in: try cluster.connect(node).command(["INFO", "server"]).string ?? "") }
            let firstRunID = try runID(replica)
            try cluster.crash(replica)
            try cluster.restart(replica)
            // A new process, which read its file's -2 (Slotgate may give it -3 before this reads it).
            #expect(try runID(replica) != firstRunID)
            var value = ""
            // Test proxies refresh the topology every 5 s.
            for _ in 0..<150 where value != "-3" {
                try await Task.sleep(for: .milliseconds(100))
                value = (try? cluster.connect(replica).command(["CONFIG", "GET", "list-max-listpack-size"]).array?.last?.string) ?? ""
            }
            #expect(value == "-3")
        }
    }
}
