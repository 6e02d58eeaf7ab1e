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
    /// `acl-mode passthrough`: the cluster checks each client's user and password, and the nodes'
    /// own ACL rules judge its commands, while Slotgate keeps one shared, pipelined link per node
    /// and user on each event loop, opened on first use and closed when idle.
    @Suite struct ACLPassthroughTests {
        /// Users made on every node of the suite's cluster; the names are this suite's own.
        private static let users = [
            ["pt-alice", "on", ">alice-pw", "~ptapp:*", "&*", "+@all"],
            ["pt-reader", "on", ">reader-pw", "~*", "+@read", "+acl|whoami"],
        ]

        private static func withPassthroughProxy(_ body: (ProxyUnderTest, LocalCluster) async throws -> Void) async throws {
            let (cluster, _) = try liveCluster()
            for node in cluster.nodes {
                let connection = try cluster.connect(node)
                for user in Self.users {
                    #expect(try connection.command(["ACL", "SETUSER"] + user) == .simpleString("OK"))
                }
            }
            try await withOwnProxy({
                $0.aclMode = .passthrough
                $0.passthroughIdleTimeout = 1
            }) { try await body($0, cluster) }
            for node in cluster.nodes {
                _ = try cluster.connect(node).command(["ACL", "DELUSER"] + Self.users.map(\.[0]))
            }
        }

        /// The connections each node has from `user`, counted in its `CLIENT LIST`.
        private static func connections(of user: String, on cluster: LocalCluster) throws -> [Int] {
            try cluster.nodes.map { node in
                let list = try cluster.connect(node).command(["CLIENT", "LIST"]).string ?? ""
                return list.split(separator: "\n").count { $0.contains(" user=\(user) ") }
            }
        }

        @Test func theClusterChecksPasswordsAndItsRulesApply() async throws {
            try await Self.withPassthroughProxy { proxy, _ in
                let client = try proxy.connect()
                // The nodes' default user needs no password: nor does Slotgate.
                #expect(try client.command(["SET", "pt:open", "1"]) == .simpleString("OK"))
                #expect(try client.command(["ACL", "WHOAMI"]).string == "default")
                let wrongPassword = RESPValue.error("WRONGPASS invalid username-password pair or user is disabled.")
                #expect(try client.command(["AUTH", "pt-alice", "wrong"]) == wrongPassword)
                #expect(try client.command(["AUTH", "nobody", "alice-pw"]) == wrongPassword)
                #expect(try client.command(["AUTH", "pt-alice", "alice-pw"]) == .simpleString("OK"))
                #expect(try client.command(["ACL", "WHOAMI"]).string == "pt-alice")
                #expect(try client.command(["SET", "ptapp:1", "v"]) == .simpleString("OK"))
                #expect(try client.command(["MSET", "ptapp:2", "a", "ptapp:3", "b"]) == .simpleString("OK"))
                #expect(try client.command(["MGET", "ptapp:1", "ptapp:2", "ptapp:3"]).array?.map(\.string) == ["v", "a", "b"])
                let noKey = RESPValue.error("NOPERM this user has no permissions to access one of the keys used as arguments")
                #expect(try client.command(["SET", "other:1", "v"]) == noKey)
                // A transaction and a blocking command run on links of the client's own, signed
                // in as its user.
                #expect(try client.command(["MULTI"]) == .simpleString("OK"))
                #expect(try client.command(["INCR", "ptapp:n"]) == .simpleString("QUEUED"))
                #expect(try client.command(["EXEC"]) == .array([.integer(1)]))
                #expect(try client.command(["MULTI"]) == .simpleString("OK"))
                #expect(try client.command(["SET", "other:2", "v"]) == noKey)
                #expect(try client.command(["EXEC"]) == .error("EXECABORT Transaction discarded because of previous errors."))
                #expect(try client.command(["BLPOP", "ptapp:queue", "0.1"]) == .null)
                // Queued on the node, a sign-in would change the user of a link pooled by user.
                #expect(try client.command(["MULTI"]) == .simpleString("OK"))
                #expect(try client.command(["AUTH", "pt-reader", "reader-pw"]) == .error("ERR Command not allowed inside a transaction"))
                #expect(try client.command(["EXEC"]) == .error("EXECABORT Transaction discarded because of previous errors."))
                #expect(try client.command(["ACL", "WHOAMI"]).string == "pt-alice")

                // A read-only user: reads anywhere, writes nowhere.
                #expect(try client.command(["AUTH", "pt-reader", "reader-pw"]) == .simpleString("OK"))
                #expect(try client.command(["GET", "ptapp:1"]).string == "v")
                #expect(try client.command(["SET", "ptapp:1", "w"]) == .error("NOPERM this user has no permissions to run the 'set' command"))
                #expect(try client.command(["ACL", "WHOAMI"]).string == "pt-reader")

                // HELLO AUTH signs in too (RESP3 in the redis-py test), and RESET signs out.
                #expect(try client.command(["HELLO", "2", "AUTH", "pt-alice", "wrong"]) == wrongPassword)
                #expect(try client.command(["HELLO", "2", "AUTH", "pt-alice", "alice-pw"]).array != nil)
                #expect(try client.command(["SET", "ptapp:4", "v"]) == .simpleString("OK"))
                #expect(try client.command(["RESET"]) == .simpleString("RESET"))
                #expect(try client.command(["ACL", "WHOAMI"]).string == "default")
            }
        }

        /// Many clients of one user share a few links per node (one per event loop), which close
        /// once idle and open again when needed.
        @Test func usersShareLinksThatCloseWhenIdle() async throws {
            try await Self.withPassthroughProxy { proxy, cluster in
                let clients = try (0..<40).map { _ in try proxy.connect() }
                for (index, client) in clients.enumerated() {
                    #expect(try client.command(["AUTH", "pt-alice", "alice-pw"]) == .simpleString("OK"))
                    for key in 0..<20 {
                        #expect(try client.command(["SET", "ptapp:\(index):\(key)", "v"]) == .simpleString("OK"))
                    }
                }
                let busy = try Self.connections(of: "pt-alice", on: cluster)
                // Two event loops, one protocol: at most two links per node, on the masters.
                #expect(busy.allSatisfy { $0 <= 2 } && busy.reduce(0, +) >= 3, "pt-alice's connections per node: \(busy)")

                var idle = busy
                for _ in 0..<100 where idle.reduce(0, +) > 0 {
                    try await Task.sleep(for: .milliseconds(100))
                    idle = try Self.connections(of: "pt-alice", on: cluster)
                }
                #expect(idle.allSatisfy { $0 == 0 }, "pt-alice's connections after a second idle: \(idle)")
                #expect(try clients[0].command(["GET", "ptapp:0:0"]).string == "v")
                #expect(try Self.connections(of: "pt-alice", on: cluster).reduce(0, +) >= 1)

                // The password changes on the nodes: signed-in clients keep their links until
                // those close; a new link's sign-in is then refused and nothing runs as anyone else.
                for node in cluster.nodes {
                    #expect(try cluster.connect(node).command(["ACL", "SETUSER", "pt-alice", "resetpass", ">new-pw"]) == .simpleString("OK"))
                }
                var reply = try clients[1].command(["SET", "ptapp:1:0", "changed"])
                for _ in 0..<100 where reply == .simpleString("OK") {
                    try await Task.sleep(for: .milliseconds(100))
                    reply = try clients[1].command(["SET", "ptapp:1:0", "changed"])
                }
                #expect(reply.errorText?.contains("refused Slotgate's sign-in as this client's user (WRONGPASS") == true, "\(reply)")
                #expect(try clients[1].command(["AUTH", "pt-alice", "new-pw"]) == .simpleString("OK"))
                #expect(try clients[1].command(["GET", "ptapp:1:0"]).string == "v")
            }
        }

        /// redis-py signs in with a user and password (`username=`), in RESP2 and RESP3 (HELLO 3 AUTH).
        @Test func redisPySignsInThroughTheCluster() async throws {
            try await Self.withPassthroughProxy { proxy, _ in
                try ClientWorkload.run(
                    "run_acl_user_workload.sh",
                    port: proxy.port,
                    arguments: ["pt-alice", "alice-pw", "ptapp:"],
                    summaryPrefix: "OK: redis-py signed in as pt-alice"
                )
            }
        }
    }
}

/// `acl-mode passthrough` in front of nodes whose default user needs a password: a client that
/// has not signed in is refused by Slotgate too, even for what Slotgate answers itself. Its own
/// cluster, because the password would lock out the shared suite's proxy.
@Suite struct ACLPassthroughLockedDefaultTests {
    @Test func clientsMustSignInWhenTheNodesDefaultUserNeedsAPassword() async throws {
        let cluster = try LocalCluster.start()
        defer { cluster.stop() }
        try cluster.requirePassword("node-pass")
        try await ProxyUnderTest.run(seeds: [cluster.nodes[0]]) {
            $0.aclMode = .passthrough
            $0.clusterPassword = "node-pass"
        } _: { proxy in
            let client = try proxy.connect()
            let noAuth = RESPValue.error("NOAUTH Authentication required.")
            #expect(try client.command(["PING"]) == noAuth)
            #expect(try client.command(["CLUSTER", "SLOTS"]) == noAuth)
            #expect(try client.command(["GET", "k"]) == noAuth)
            #expect(try client.command(["AUTH", "wrong"]) == .error("WRONGPASS invalid username-password pair or user is disabled."))
            #expect(try client.command(["AUTH", "node-pass"]) == .simpleString("OK"))
            #expect(try client.command(["SET", "k", "v"]) == .simpleString("OK"))
            #expect(try client.command(["GET", "k"]).string == "v")
        }
    }
}
