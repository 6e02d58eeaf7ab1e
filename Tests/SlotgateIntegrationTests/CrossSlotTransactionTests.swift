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
    /// Transactions over several slots under `cross-slot-transactions per-slot`: each slot's share
    /// runs as its own `MULTI`…`EXEC` on its master, and `EXEC` answers in the client's order.
    @Suite struct CrossSlotTransactionTests {
        /// A proxy in `per-slot` mode beside the suite's own, on the shared cluster.
        private static func withPerSlotProxy(_ body: (LocalCluster, ProxyUnderTest) async throws -> Void) async throws {
            let (cluster, _) = try liveCluster()
            try await withOwnProxy({ $0.crossSlotTransactions = .perSlot }) { try await body(cluster, $0) }
        }

        /// One hash tag on each master, so each tag's keys are in a slot of their own on a node of their own.
        private static func tagPerMaster(_ prefix: String, in cluster: LocalCluster) throws -> [String] {
            let map = try cluster.slotMap()
            return map.shards.map { TopologyChangeTests.tags(prefix, count: 1, servedBy: $0.master, in: map)[0] }
        }

        private static func queued(_ client: BlockingRedisConnection, _ commands: [[String]]) throws {
            for command in commands {
                #expect(try client.command(command) == .simpleString("QUEUED"), "\(command)")
            }
        }

        /// Commands over three slots, split commands among them, get their replies in the client's
        /// order; each slot's commands ran in order (an `INCR` sees the one before it).
        @Test func execAnswersInTheClientsOrder() async throws {
            try await Self.withPerSlotProxy { cluster, proxy in
                let tags = try Self.tagPerMaster("order", in: cluster)
                let (a, b, c) = ("{\(tags[0])}", "{\(tags[1])}", "{\(tags[2])}")
                let client = try proxy.connect()
                #expect(try client.command(["DEL", a + "l", b + "l", c + "n", a + "s", b + "s"]).int != nil)

                // Starting with a command over several slots: every slot's commands wait in Slotgate.
                #expect(try client.command(["MULTI"]) == .simpleString("OK"))
                try Self.queued(
                    client,
                    [
                        ["DEL", a + "l", b + "l", c + "n"], ["RPUSH", a + "l", "1"], ["INCR", c + "n"], ["RPUSH", b + "l", "x"],
                        ["RPUSH", a + "l", "2"], ["INCRBY", c + "n", "10"], ["LRANGE", a + "l", "0", "-1"], ["MSET", a + "s", "A", b + "s", "B"],
                        ["MGET", b + "s", a + "s", c + "none"], ["GET", c + "n"], ["PING"],
                    ]
                )
                let bulk = { (text: String) in RESPValue.bulkString(Array(text.utf8)) }
                #expect(
                    try client.command(["EXEC"])
                        == .array([
                            .integer(0), .integer(1), .integer(1), .integer(1), .integer(2), .integer(11), .array([bulk("1"), bulk("2")]),
                            .simpleString("OK"), .array([bulk("B"), bulk("A"), .null]), bulk("11"), .simpleString("PONG"),
                        ])
                )

                // Starting in one slot: that slot's commands go to its node as they come, the others wait.
                #expect(try client.command(["MULTI"]) == .simpleString("OK"))
                try Self.queued(
                    client,
                    [["INCR", a + "n"], ["DEL", b + "l", a + "l"], ["LLEN", b + "l"], ["INCR", a + "n"], ["EXISTS", a + "s", b + "s", c + "s"]]
                )
                let reply = try client.command(["EXEC"])
                let first = try #require(reply.array?.first?.int)
                #expect(reply == .array([.integer(first), .integer(2), .integer(0), .integer(first + 1), .integer(2)]))
                // After EXEC, the next command sees every slot's writes.
                #expect(try client.command(["EXISTS", a + "l", b + "l"]) == .integer(0))
            }
        }

        /// Redis's queue-time checks: an unknown command or a wrong number of arguments is refused
        /// when queued, and `EXEC` then aborts every slot's share: nothing is written anywhere.
        @Test func queueTimeErrorsAbortTheWholeTransaction() async throws {
            try await Self.withPerSlotProxy { cluster, proxy in
                let tags = try Self.tagPerMaster("queue", in: cluster)
                let (a, b) = ("{\(tags[0])}", "{\(tags[1])}")
                let client = try proxy.connect()
                #expect(try client.command(["DEL", a + "k", b + "k"]).int != nil)
                #expect(try client.command(["MULTI"]) == .simpleString("OK"))
                try Self.queued(client, [["SET", a + "k", "1"], ["SET", b + "k", "1"]])
                #expect(try client.command(["SET", b + "other"]) == .error("ERR wrong number of arguments for 'set' command"))
                #expect(try client.command(["NOSUCHCOMMAND", b + "k"]).errorText?.hasPrefix("ERR unknown command 'NOSUCHCOMMAND'") == true)
                #expect(try client.command(["EXEC"]) == .error("EXECABORT Transaction discarded because of previous errors."))
                #expect(try client.command(["EXISTS", a + "k", b + "k"]) == .integer(0))
                // A command Redis never queues.
                #expect(try client.command(["MULTI"]) == .simpleString("OK"))
                #expect(try client.command(["SET", a + "k", "1"]) == .simpleString("QUEUED"))
                #expect(try client.command(["WATCH", b + "k"]) == .error("ERR WATCH inside MULTI is not allowed"))
                #expect(try client.command(["DISCARD"]) == .simpleString("OK"))
                #expect(try client.command(["EXISTS", a + "k"]) == .integer(0))
            }
        }

        /// After a `WATCH`, the watched slot's share commits first: when the watched key changed,
        /// `EXEC` gives nil and no slot is written; unchanged, every slot commits.
        @Test func watchedSlotCommitsFirstAndDecidesForTheOthers() async throws {
            try await Self.withPerSlotProxy { cluster, proxy in
                let tags = try Self.tagPerMaster("watch", in: cluster)
                let (a, b, c) = ("{\(tags[0])}", "{\(tags[1])}", "{\(tags[2])}")
                let client = try proxy.connect()
                let other = try proxy.connect()
                #expect(try client.command(["MSET", a + "balance", "10", b + "log", "none", c + "log", "none"]) == .simpleString("OK"))

                #expect(try client.command(["WATCH", a + "balance"]) == .simpleString("OK"))
                #expect(try other.command(["INCRBY", a + "balance", "5"]) == .integer(15))
                #expect(try client.command(["MULTI"]) == .simpleString("OK"))
                try Self.queued(client, [["SET", b + "log", "changed"], ["DECRBY", a + "balance", "10"], ["SET", c + "log", "changed"]])
                #expect(try client.command(["EXEC"]) == .null)
                #expect(
                    try client.command(["MGET", a + "balance", b + "log", c + "log"])
                        == .array(["15", "none", "none"].map { .bulkString(Array($0.utf8)) })
                )

                #expect(try client.command(["WATCH", a + "balance"]) == .simpleString("OK"))
                #expect(try client.command(["MULTI"]) == .simpleString("OK"))
                try Self.queued(client, [["SET", b + "log", "changed"], ["DECRBY", a + "balance", "10"], ["SET", c + "log", "changed"]])
                #expect(try client.command(["EXEC"]) == .array([.simpleString("OK"), .integer(5), .simpleString("OK")]))
                #expect(
                    try client.command(["MGET", a + "balance", b + "log", c + "log"])
                        == .array(["5", "changed", "changed"].map { .bulkString(Array($0.utf8)) })
                )
            }
        }

        /// Watches over two slots are refused: no order of per-slot commits could honour both.
        @Test func watchesOverTwoSlotsAreRefusedWithTheReason() async throws {
            try await Self.withPerSlotProxy { cluster, proxy in
                let tags = try Self.tagPerMaster("watch2", in: cluster)
                let (a, b) = ("{\(tags[0])}", "{\(tags[1])}")
                let client = try proxy.connect()
                let refusal = try #require(try client.command(["WATCH", a + "k", b + "k"]).errorText)
                #expect(
                    refusal.hasPrefix("CROSSSLOT Keys in request don't hash to the same slot (the keys a transaction WATCHes must share one slot")
                )
                #expect(try client.command(["WATCH", a + "k"]) == .simpleString("OK"))
                #expect(try client.command(["WATCH", b + "k"]) == .error(refusal))
                #expect(try client.command(["UNWATCH"]) == .simpleString("OK"))
            }
        }

        /// `EXEC`'s reply is what a single Redis gives, byte for byte, in RESP3 as in RESP2: the
        /// node's own replies in the client's protocol, in one array.
        @Test(arguments: [2, 3])
        func execRepliesAreTheNodesBytesInTheClientsProtocol(protocolVersion: Int) async throws {
            try await Self.withPerSlotProxy { cluster, proxy in
                let tags = try Self.tagPerMaster("bytes\(protocolVersion)", in: cluster)
                let (a, b, c) = ("{\(tags[0])}", "{\(tags[1])}", "{\(tags[2])}")
                let run = UInt32.random(in: 0...UInt32.max)
                let client = try RawClient(port: proxy.port)
                try client.send("HELLO \(protocolVersion)\r\n")
                try await Task.sleep(for: .milliseconds(200))
                _ = client.receive(atLeast: 1)
                try client.send(
                    "MULTI\r\nSET \(a)k v\r\nHSET \(b)h\(run) f v\r\nHGETALL \(b)h\(run)\r\nZADD \(c)z\(run) 1.5 m\r\nZSCORE \(c)z\(run) m\r\nEXEC\r\n"
                )
                let execReply =
                    protocolVersion == 3
                    ? "*5\r\n+OK\r\n:1\r\n%1\r\n$1\r\nf\r\n$1\r\nv\r\n:1\r\n,1.5\r\n"
                    : "*5\r\n+OK\r\n:1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n:1\r\n$3\r\n1.5\r\n"
                let expected = "+OK\r\n" + String(repeating: "+QUEUED\r\n", count: 5) + execReply
                #expect(String(decoding: client.receive(atLeast: expected.utf8.count), as: UTF8.self) == expected)
                try client.send("DEL \(b)h\(run) \(c)z\(run)\r\n")
                #expect(String(decoding: client.receive(atLeast: 4), as: UTF8.self) == ":2\r\n")
            }
        }

        /// A slot that moved since Slotgate's last look at the map: its share is answered MOVED
        /// by the old master, so it did not run, and its elements say so, naming the node; the
        /// other share commits. Nothing is re-sent; the next transaction finds the slot's new master.
        @Test func aShareWhoseSlotMovedDidNotRunAndSaysSo() async throws {
            try await Self.withPerSlotProxy { cluster, proxy in
                let map = try cluster.slotMap()
                let masters = map.shards.map(\.master)
                let tags = try Self.tagPerMaster("moved", in: cluster)
                let (a, b) = ("{\(tags[0])}", "{\(tags[1])}")
                let slot = HashSlot(key: tags[1])
                let client = try proxy.connect()
                #expect(try client.command(["SET", b + "before", "1"]) == .simpleString("OK"))
                try cluster.moveSlot(slot, to: masters[2])
                defer { try? cluster.moveSlot(slot, to: masters[1]) }

                #expect(try client.command(["MULTI"]) == .simpleString("OK"))
                try Self.queued(client, [["SET", a + "k", "1"], ["SET", b + "k", "1"]])
                let reply = try #require(try client.command(["EXEC"]).array)
                #expect(reply.first == .simpleString("OK"))
                let moved = try #require(reply.last?.errorText)
                #expect(
                    moved.hasPrefix("ERR per-slot transaction: the commands for slot \(slot.rawValue) on node \(masters[1]) did not run ("),
                    "\(moved)"
                )
                #expect(moved.contains("MOVED \(slot.rawValue) \(masters[2])"), "\(moved)")
                #expect(try client.command(["EXISTS", b + "k"]) == .integer(0))

                var committed = false
                for _ in 0..<100 where !committed {
                    try await Task.sleep(for: .milliseconds(50))
                    #expect(try client.command(["MULTI"]) == .simpleString("OK"))
                    try Self.queued(client, [["SET", a + "k", "2"], ["SET", b + "k", "2"]])
                    committed = try client.command(["EXEC"]) == .array([.simpleString("OK"), .simpleString("OK")])
                }
                #expect(committed, "a later transaction commits on the slot's new master")
                #expect(try cluster.connect(masters[2]).command(["GET", b + "k"]).string == "2")
            }
        }

        /// Under the default `refuse`, the CROSSSLOT error says which directive would run the transaction.
        @Test func refuseModeNamesTheDirective() throws {
            let (_, proxy) = try liveCluster()
            let client = try proxy.connect()
            #expect(try client.command(["MULTI"]) == .simpleString("OK"))
            #expect(try client.command(["SET", "{hint-a}:k", "1"]) == .simpleString("QUEUED"))
            #expect(
                try client.command(["DEL", "{hint-a}:k", "{hint-b}:k"]).errorText?.hasSuffix(
                    "(cross-slot-transactions per-slot would run this transaction slot by slot)"
                ) == true
            )
            #expect(try client.command(["RENAME", "{hint-a}:k", "{hint-b}:k"]) == .error("CROSSSLOT Keys in request don't hash to the same slot"))
            #expect(try client.command(["EXEC"]) == .error("EXECABORT Transaction discarded because of previous errors."))
        }
    }
}
