//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateCluster
import SlotgateRESP
import Testing

extension LiveClusterSuite {
    /// Multi-key and whole-keyspace commands answer as one Redis holding all the data would.
    @Suite struct KeyspaceTests {
        @Test func splitCommandsMergeInKeyOrder() throws {
            let (cluster, proxy) = try liveCluster()
            let client = try proxy.connect()
            let keys = (0..<500).map { "split:\($0)" }
            let map = try cluster.slotMap()
            #expect(Set(keys.map { map.master(for: HashSlot(key: $0))! }).count == 3)

            #expect(try client.command(["MSET"] + keys.flatMap { [$0, "v-\($0)"] }) == .simpleString("OK"))
            // Missing keys interleaved with present ones, and a key asked twice.
            let asked = keys.prefix(200).flatMap { [$0, "missing:\($0)"] } + [keys[0]]
            let expected: [RESPValue] =
                keys.prefix(200).flatMap { [RESPValue.bulkString(Array("v-\($0)".utf8)), .null] }
                + [.bulkString(Array("v-\(keys[0])".utf8))]
            #expect(try client.command(["MGET"] + asked) == .array(expected))

            #expect(try client.command(["EXISTS", keys[0], keys[0], keys[1], "missing:x"]) == .integer(3))
            #expect(try client.command(["TOUCH"] + keys.prefix(50) + ["missing:y"]) == .integer(50))
            #expect(try client.command(["DEL", keys[0], keys[1], keys[1], "missing:z"]) == .integer(2))
            #expect(try client.command(["UNLINK"] + keys[2..<100]) == .integer(98))
            #expect(try client.command(["EXISTS"] + keys) == .integer(400))
            #expect(try client.command(["MSET", "split:odd", "1", "split:lonely"]) == .error("ERR wrong number of arguments for 'mset' command"))
        }

        @Test func splitAndSingleKeyCommandsKeepPipelineOrder() throws {
            let (_, proxy) = try liveCluster()
            let client = try proxy.connect()
            var expected: [RESPValue] = []
            for index in 0..<5000 {
                let a = "mix:\(index)"
                let b = "mix:other:\(index)"
                switch index % 5 {
                case 0:
                    try client.append(["MSET", a, "\(index)", b, "\(index + 1)"])
                    expected.append(.simpleString("OK"))
                case 1:
                    try client.append(["MGET", "mix:\(index - 1)", "mix:other:\(index - 1)", "mix:none"])
                    expected.append(.array([.bulkString(Array("\(index - 1)".utf8)), .bulkString(Array("\(index)".utf8)), .null]))
                case 2:
                    try client.append(["GET", "mix:\(index - 2)"])
                    expected.append(.bulkString(Array("\(index - 2)".utf8)))
                case 3:
                    try client.append(["EXISTS", "mix:\(index - 3)", "mix:other:\(index - 3)", "mix:none"])
                    expected.append(.integer(2))
                default:
                    try client.append(["DEL", "mix:\(index - 4)", "mix:other:\(index - 4)"])
                    expected.append(.integer(2))
                }
            }
            for (index, value) in expected.enumerated() {
                let reply = try client.readReply()
                #expect(reply == value, "reply \(index)")
                if reply != value { break }
            }
        }

        @Test func scanVisitsEveryKeyOnEveryMaster() throws {
            let (cluster, proxy) = try liveCluster()
            let client = try proxy.connect()
            let keys = (0..<20_000).map { "scan:\($0)" }
            for batch in stride(from: 0, to: keys.count, by: 1000) {
                try client.append(["MSET"] + keys[batch..<(batch + 1000)].flatMap { [$0, "x"] })
            }
            for _ in stride(from: 0, to: keys.count, by: 1000) { #expect(try client.readReply() == .simpleString("OK")) }
            for index in 0..<30 { #expect(try client.command(["HSET", "scanhash:\(index)", "f", "v"]) == .integer(1)) }

            #expect(try Self.scanAll(client, ["MATCH", "scan:*", "COUNT", "10"]) == Set(keys))
            // Other tests leave hashes of their own: the pattern keeps to this test's keys, strings and hashes.
            #expect(try Self.scanAll(client, ["MATCH", "scan*", "COUNT", "1000", "TYPE", "hash"]) == Set((0..<30).map { "scanhash:\($0)" }))
            #expect(try client.command(["SCAN", "not-a-number"]) == .error("ERR invalid cursor"))

            // KEYS and DBSIZE agree with what the masters themselves hold.
            let masters = try cluster.slotMap().shards.map(\.master)
            let direct = try masters.reduce(0) { $0 + (try cluster.connect($1).command(["DBSIZE"]).int ?? 0) }
            #expect(try client.command(["DBSIZE"]).int == direct)
            #expect(try client.command(["KEYS", "scan:*"]).array?.count == keys.count)
            let info = try #require(client.command(["INFO", "keyspace"]).string)
            #expect(info.contains("db0:keys=\(direct),"), "\(info)")
        }

        /// Every key a full SCAN iteration returns, following the cursor until it is 0 (bounded).
        private static func scanAll(_ client: BlockingRedisConnection, _ options: [String]) throws -> Set<String> {
            var keys = Set<String>()
            var cursor = "0"
            for _ in 0..<100_000 {
                let reply = try #require(client.command(["SCAN", cursor] + options).array)
                cursor = try #require(reply[0].string)
                for key in reply[1].array ?? [] { keys.insert(key.string ?? "") }
                if cursor == "0" { return keys }
            }
            Issue.record("SCAN did not end")
            return keys
        }

        @Test func broadcastCommandsReachEveryMaster() throws {
            let (cluster, proxy) = try liveCluster()
            let client = try proxy.connect()
            let script = "return redis.call('GET', KEYS[1])"
            let sha = try #require(client.command(["SCRIPT", "LOAD", script]).string)
            #expect(try client.command(["SCRIPT", "EXISTS", sha, "0000000000000000000000000000000000000000"]) == .array([.integer(1), .integer(0)]))
            // The script is known on every master, so EVALSHA works whichever master a key lives on.
            let map = try cluster.slotMap()
            for shard in map.shards {
                let key = try #require((0..<10_000).map { "evalsha:\($0)" }.first { map.master(for: HashSlot(key: $0)) == shard.master })
                #expect(try client.command(["SET", key, "here"]) == .simpleString("OK"))
                #expect(try client.command(["EVALSHA", sha, "1", key]).string == "here")
            }
            #expect(try client.command(["RANDOMKEY"]).string != nil)
            #expect(try client.command(["FLUSHALL"]) == .simpleString("OK"))
            for shard in map.shards {
                #expect(try cluster.connect(shard.master).command(["DBSIZE"]) == .integer(0))
            }
            #expect(try client.command(["RANDOMKEY"]) == .null)
            #expect(try client.command(["SCRIPT", "FLUSH"]) == .simpleString("OK"))
            #expect(try client.command(["SCRIPT", "EXISTS", sha]) == .array([.integer(0)]))
        }

        /// SORT's BY/GET/STORE keys are not described by its key specs; the cluster names them.
        @Test func commandsWithIncompleteKeySpecsRouteByTheClustersAnswer() throws {
            let (_, proxy) = try liveCluster()
            let client = try proxy.connect()
            #expect(try client.command(["RPUSH", "{sort}:list", "3", "1", "2"]) == .integer(3))
            #expect(try client.command(["SORT", "{sort}:list", "STORE", "{sort}:sorted"]) == .integer(3))
            #expect(try client.command(["LRANGE", "{sort}:sorted", "0", "-1"]).array?.map(\.string) == ["1", "2", "3"])
            #expect(
                try client.command(["SORT", "{sort}:list", "STORE", "elsewhere"]) == .error("CROSSSLOT Keys in request don't hash to the same slot")
            )
            #expect(try client.command(["SORT_RO", "{sort}:list", "LIMIT", "0", "1"]).array?.map(\.string) == ["1"])
            // Arguments the cluster cannot read: the command still gets the node's own answer.
            let reply = try client.command(["SORT", "{sort}:list", "LIMIT", "x"])
            #expect(reply.string?.hasPrefix("ERR") == true, "\(reply)")
        }

        @Test(arguments: [
            ["SHUTDOWN"], ["DEBUG", "SLEEP", "0"], ["MONITOR"], ["REPLICAOF", "NO", "ONE"], ["CONFIG", "REWRITE"],
            ["MOVE", "k", "1"], ["SWAPDB", "0", "1"], ["CLUSTER", "SETSLOT", "1", "STABLE"], ["CLUSTER", "FORGET", "abc"],
            ["CLUSTER", "FAILOVER"], ["SYNC"], ["FAILOVER"],
        ])
        func refusedCommandsSayWhyAndKeepTheConnection(command: [String]) throws {
            let (_, proxy) = try liveCluster()
            let client = try proxy.connect()
            let reply = try client.command(command)
            guard case .error(let message) = reply else {
                Issue.record("\(command) was not refused: \(reply)")
                return
            }
            #expect(message.hasPrefix("ERR '\(command[0])"), "\(message)")
            #expect(message.contains("not available through Slotgate"))
            #expect(try client.command(["PING"]) == .simpleString("PONG"))
        }
    }
}
