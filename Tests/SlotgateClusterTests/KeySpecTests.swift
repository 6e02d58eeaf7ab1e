//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateRESP
import Testing

/// Protects where Slotgate looks for keys: Redis 7 key specs read from a real `COMMAND` reply,
/// and the search rules of Redis's `getKeysUsingKeySpecs` (index or keyword, then range or key
/// count), so a command routes by exactly the keys the cluster will check.
@Suite("KeySpec")
struct KeySpecTests {
    /// The indexes `spec` finds among `words`.
    static func visit(_ spec: KeySpec, _ words: [String]) -> [Int] {
        var indexes: [Int] = []
        spec.visitKeyIndexes(
            argumentCount: words.count,
            argumentEquals: { index, keyword in words[index].lowercased() == keyword.lowercased() },
            integerArgument: { Int(words[$0]) },
            { indexes.append($0) }
        )
        return indexes
    }

    static let single = KeySpec(beginSearch: .index(1), findKeys: .range(lastKey: 0, step: 1, limit: 0))
    static let allFromOne = KeySpec(beginSearch: .index(1), findKeys: .range(lastKey: -1, step: 1, limit: 0))
    static let pairs = KeySpec(beginSearch: .index(1), findKeys: .range(lastKey: -1, step: 2, limit: 0))
    static let numkeys = KeySpec(beginSearch: .index(2), findKeys: .keyCount(keyCountIndex: 0, firstKey: 1, step: 1))
    static let streams = KeySpec(beginSearch: .keyword("STREAMS", startFrom: 1), findKeys: .range(lastKey: -1, step: 1, limit: 2))
    static let keysFromEnd = KeySpec(beginSearch: .keyword("KEYS", startFrom: -2), findKeys: .range(lastKey: -1, step: 1, limit: 0))

    // MARK: - Search rules

    @Test("index + range with lastKey 0 finds the one key")
    func singleKey() {
        #expect(Self.visit(Self.single, ["GET", "k"]) == [1])
        #expect(Self.visit(Self.single, ["SET", "k", "v", "EX", "10"]) == [1])
    }

    @Test("a negative lastKey counts from the end")
    func negativeLastKey() {
        #expect(Self.visit(Self.allFromOne, ["MGET", "a", "b", "c"]) == [1, 2, 3])
        let blpop = KeySpec(beginSearch: .index(1), findKeys: .range(lastKey: -2, step: 1, limit: 0))
        #expect(Self.visit(blpop, ["BLPOP", "a", "b", "c", "0"]) == [1, 2, 3])
    }

    @Test("a step skips the values between keys")
    func step() {
        #expect(Self.visit(Self.pairs, ["MSET", "k1", "v1", "k2", "v2"]) == [1, 3])
        #expect(Self.visit(Self.pairs, ["MSET", "k1", "v1", "k2", "v2", "k3", "v3"]) == [1, 3, 5])
        // A missing last value: the key is still found; the node reports the arity error.
        #expect(Self.visit(Self.pairs, ["MSET", "k1", "v1", "k2"]) == [1, 3])
    }

    @Test("a positive lastKey beyond the arguments visits only what exists")
    func rangePastEnd() {
        let two = KeySpec(beginSearch: .index(1), findKeys: .range(lastKey: 1, step: 1, limit: 0))
        #expect(Self.visit(two, ["RENAME", "a", "b"]) == [1, 2])
        #expect(Self.visit(two, ["RENAME", "a"]) == [1])
        #expect(Self.visit(Self.single, ["GET"]) == [])
    }

    @Test("a keyword begin search starts after the keyword, any case")
    func keywordForward() {
        #expect(Self.visit(Self.streams, ["XREAD", "COUNT", "1", "STREAMS", "s1", "s2", "0", "0"]) == [4, 5])
        #expect(Self.visit(Self.streams, ["xread", "streams", "a", "b", "c", "0", "0", "0"]) == [2, 3, 4])
        #expect(Self.visit(Self.streams, ["XREAD", "sTrEaMs", "s", "$"]) == [2])
    }

    @Test("a keyword that is absent, or only the last argument, finds no keys")
    func keywordMissing() {
        #expect(Self.visit(Self.streams, ["XREAD", "COUNT", "1"]) == [])
        #expect(Self.visit(Self.streams, ["XREAD", "STREAMS"]) == [])
    }

    @Test("a negative startFrom searches backwards from the end")
    func keywordBackward() {
        #expect(Self.visit(Self.keysFromEnd, ["MIGRATE", "h", "1", "", "0", "5000", "KEYS", "k1", "k2"]) == [7, 8])
        // Backwards, the last KEYS wins: a key may itself be named "KEYS".
        #expect(Self.visit(Self.keysFromEnd, ["MIGRATE", "h", "1", "", "0", "5000", "KEYS", "KEYS", "k2"]) == [8])
        #expect(Self.visit(Self.keysFromEnd, ["MIGRATE", "h", "1", "k", "0", "5000"]) == [])
    }

    @Test("a keyword with a limited range divides the rest between keys and IDs")
    func rangeLimit() {
        #expect(Self.visit(Self.streams, ["XREAD", "STREAMS", "a", "b", "c", "1", "2", "3"]) == [2, 3, 4])
        #expect(Self.visit(Self.streams, ["XREAD", "BLOCK", "0", "STREAMS", "a", "$"]) == [4])
    }

    @Test("a key count reads the count, then visits that many keys")
    func keyCount() {
        #expect(Self.visit(Self.numkeys, ["EVAL", "s", "2", "a", "b", "arg"]) == [3, 4])
        #expect(Self.visit(Self.numkeys, ["EVAL", "s", "0"]) == [])
        #expect(Self.visit(Self.numkeys, ["EVAL", "s", "0", "arg"]) == [])
        // More keys announced than given: only the ones present are visited.
        #expect(Self.visit(Self.numkeys, ["EVAL", "s", "5", "a", "b"]) == [3, 4])
    }

    @Test(
        "a key count that is negative, not a number or missing finds no keys",
        arguments: [["EVAL", "s", "-1", "a"], ["EVAL", "s", "two", "a"], ["EVAL", "s"], ["EVAL"]]
    )
    func badKeyCount(words: [String]) {
        #expect(Self.visit(Self.numkeys, words) == [])
    }

    @Test("unknown parts, or a step of 0, find nothing; isComplete says so")
    func unknownParts() {
        let unknownBegin = KeySpec(beginSearch: .unknown, findKeys: .range(lastKey: 0, step: 1, limit: 0))
        let unknownFind = KeySpec(beginSearch: .index(1), findKeys: .unknown)
        let zeroStep = KeySpec(beginSearch: .index(1), findKeys: .range(lastKey: -1, step: 0, limit: 0))
        #expect(Self.visit(unknownBegin, ["SORT", "k", "STORE", "d"]) == [])
        #expect(Self.visit(unknownFind, ["SORT", "k"]) == [])
        #expect(Self.visit(zeroStep, ["X", "a", "b"]) == [])
        #expect(!unknownBegin.isComplete)
        #expect(!unknownFind.isComplete)
        #expect(Self.single.isComplete)
        #expect(Self.streams.isComplete)
        #expect(Self.numkeys.isComplete)
    }

    // MARK: - Against a real redis-server

    /// Key specs from a real redis-server's `COMMAND` reply, checked against its `COMMAND GETKEYS`.
    @Suite("KeySpec against redis-server", .throwawayRedisServer)
    struct Live {
        static func table() throws -> (CommandTable, BlockingRedisConnection) {
            let redis = try ThrowawayRedisServer.connect()
            let table = try #require(CommandTable(commandReply: try redis.command(["COMMAND"])))
            return (table, redis)
        }

        @Test("key specs are read from the COMMAND reply as Redis 7 declares them")
        func parsedSpecs() throws {
            let (table, _) = try Self.table()
            let index1 = KeySpecTests.single
            let both: KeySpec.Access = [.read, .write]
            #expect(table["get"]?.keySpecs == [index1.needing(.read)])
            #expect(table["mset"]?.keySpecs == [KeySpecTests.pairs.needing(.write)])
            #expect(table["mget"]?.keySpecs == [KeySpecTests.allFromOne.needing(.read)])
            #expect(table["eval"]?.keySpecs == [KeySpecTests.numkeys.needing(both)])
            #expect(table["xread"]?.keySpecs == [KeySpecTests.streams.needing(.read)])
            #expect(table["zunionstore"]?.keySpecs == [index1.needing(.write), KeySpecTests.numkeys.needing(.read)])
            #expect(table["blmpop"]?.keySpecs == [KeySpecTests.numkeys.needing(both)])
            #expect(
                table["georadius"]?.keySpecs == [
                    index1.needing(.read),
                    KeySpec(beginSearch: .keyword("STORE", startFrom: 6), findKeys: .range(lastKey: 0, step: 1, limit: 0), access: .write),
                    KeySpec(beginSearch: .keyword("STOREDIST", startFrom: 6), findKeys: .range(lastKey: 0, step: 1, limit: 0), access: .write),
                ]
            )
            #expect(
                table["migrate"]?.keySpecs == [
                    KeySpec(beginSearch: .index(3), findKeys: .range(lastKey: 0, step: 1, limit: 0)),
                    KeySpec(
                        beginSearch: .keyword("KEYS", startFrom: -2),
                        findKeys: .range(lastKey: -1, step: 1, limit: 0),
                        isFlaggedIncomplete: true
                    ),
                ]
            )
            // SORT's BY/GET and STORE keys cannot be described; Redis 7.0 lists them as unknown.
            let unknown = KeySpec(beginSearch: .unknown, findKeys: .unknown)
            #expect(table["sort"]?.keySpecs == [index1.needing(.read), unknown.needing(.read), unknown.needing(.write)])
            #expect(table["sort"]?.keySpecs.last?.isComplete == false)
            #expect(
                table["object"]?.subcommands["encoding"]?.keySpecs == [
                    KeySpec(beginSearch: .index(2), findKeys: .range(lastKey: 0, step: 1, limit: 0), access: [])
                ]
            )
            #expect(table["config"]?.subcommands["get"]?.keySpecs == [])
            #expect(table["ping"]?.keySpecs == [])
        }

        // Redis's ACL check asks read permission of a key a spec flags `access`, write permission
        // of one it flags `insert`, `update` or `delete`, and neither of one it flags with none
        // (EXISTS). SET declares the widest case (a read for `GET`) and flags it variable; it does
        // not check what a spec flagged `not_key` finds.
        @Test("key specs say what the command does with its keys")
        func access() throws {
            let (table, _) = try Self.table()
            #expect(table["exists"]?.keySpecs.map(\.access) == [[]])
            #expect(table["del"]?.keySpecs.map(\.access) == [.write])
            #expect(table["copy"]?.keySpecs.map(\.access) == [.read, .write])
            #expect(table["set"]?.keySpecs.map(\.access) == [[.read, .write]])
            #expect(table["set"]?.keySpecs.map(\.isFlaggedVariable) == [true])
            #expect(table["get"]?.keySpecs.map(\.isFlaggedVariable) == [false])
            // A shard channel routes like a key but is none.
            #expect(table["spublish"]?.keySpecs.map(\.isFlaggedNotKey) == [true])
            #expect(table["get"]?.keySpecs.map(\.isFlaggedNotKey) == [false])
        }

        @Test("commands keep their ACL categories, subcommands their own")
        func categories() throws {
            let (table, _) = try Self.table()
            #expect(table["get"]?.categories == ["read", "string", "fast"])
            #expect(table["config"]?.categories == ["slow"])
            #expect(table["config"]?.subcommands["get"]?.categories == ["admin", "slow", "dangerous"])
            #expect(table["publish"]?.categories.contains("pubsub") == true)
        }

        /// Commands whose key specs are complete, so the keys found must be the server's own.
        static let commands: [[String]] = [
            ["GET", "k"], ["SET", "k", "v", "EX", "10"], ["SET", "k", "v", "GET"], ["MSET", "k1", "v1", "k2", "v2"], ["MGET", "a", "b", "c"],
            ["EVAL", "return 1", "2", "a", "b", "arg"], ["FCALL", "f", "2", "a", "b", "c"],
            ["XREAD", "COUNT", "1", "STREAMS", "s1", "s2", "0", "0"],
            ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s1", "s2", ">", ">"],
            ["ZUNIONSTORE", "dst", "2", "a", "b", "WEIGHTS", "1", "2"], ["BLMPOP", "0", "2", "a", "b", "LEFT"],
            ["GEORADIUS", "src", "0", "0", "1", "km", "STORE", "dst"],
            ["GEOSEARCHSTORE", "dst", "src", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"],
            ["OBJECT", "ENCODING", "k"], ["BITOP", "AND", "dst", "a", "b", "c"], ["LMOVE", "a", "b", "LEFT", "RIGHT"],
            ["BLPOP", "a", "b", "c", "0"], ["RENAME", "a", "b"], ["SINTERCARD", "2", "a", "b", "LIMIT", "1"], ["LCS", "a", "b"],
            ["ZADD", "z", "1", "m"], ["XADD", "s", "*", "f", "v"], ["DEL", "a", "b", "c"],
        ]

        @Test("the keys found are the ones the server's COMMAND GETKEYS names", arguments: Live.commands)
        func matchesGetKeys(words: [String]) throws {
            let (table, redis) = try Self.table()
            let arguments = words.map { ByteBuffer(string: $0) }
            guard case .found(let spec) = table.lookup(arguments) else {
                Issue.record("\(words) was rejected")
                return
            }
            var found: [String] = []
            CommandTable.visitKeyIndexes(of: spec, in: arguments) { found.append(words[$0]) }
            let reply = try redis.command(["COMMAND", "GETKEYS"] + words)
            let serverKeys = try #require(reply.array, "COMMAND GETKEYS replied \(reply)").compactMap(\.string)
            #expect(found == serverKeys)
        }

        // Redis routes MIGRATE by its getkeys procedure: its key-spec list holds an index-3 spec
        // (the single-key form's key, "" when KEYS is used) and a KEYS spec flagged `incomplete`,
        // and Redis's getKeysFromCommandWithSpecs falls back to the procedure whenever a spec is
        // incomplete. Slotgate does the same by asking the cluster (COMMAND GETKEYS) for exactly
        // the commands whose specs are incomplete or unknown, and only for those.
        @Test("commands with incomplete or unknown key specs, and only those, need a key lookup")
        func keyLookupNeeded() throws {
            let (table, _) = try Self.table()
            for name in ["migrate", "sort", "sort_ro"] {
                #expect(table[name]?.needsKeyLookup == true, "\(name)")
            }
            for name in ["get", "mset", "mget", "eval", "xread", "zunionstore", "georadius", "blmpop", "object"] {
                #expect(table[name]?.needsKeyLookup == false, "\(name)")
            }
        }
    }
}

extension KeySpec {
    /// The same spec, declared to need `access` of its keys.
    func needing(_ access: KeySpec.Access) -> KeySpec {
        var spec = self
        spec.access = access
        return spec
    }
}
