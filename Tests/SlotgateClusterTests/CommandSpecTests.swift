//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateCluster
import SlotgateRESP
import Testing

/// Protects Redis's arity rule and the reading of `COMMAND` entries, including the short
/// Redis 6 form whose key positions come from first/last/step alone.
@Suite("CommandSpec")
struct CommandSpecTests {
    static func bulk(_ text: String) -> RESPValue { .bulkString(Array(text.utf8)) }

    static func flags(_ names: String...) -> RESPValue { self.flags(names) }

    static func flags(_ names: [String]) -> RESPValue { .array(names.map { .simpleString($0) }) }

    static func visit(_ keySpecs: [KeySpec], _ words: [String]) -> [Int] {
        var indexes: [Int] = []
        for spec in keySpecs {
            spec.visitKeyIndexes(
                argumentCount: words.count,
                argumentEquals: { words[$0].lowercased() == $1.lowercased() },
                integerArgument: { Int(words[$0]) },
                { indexes.append($0) }
            )
        }
        return indexes
    }

    @Test("a positive arity means exactly that many arguments, name included")
    func fixedArity() {
        let get = CommandSpec(name: "get", arity: 2, flags: [], keySpecs: [])
        #expect(!get.acceptsArgumentCount(1))
        #expect(get.acceptsArgumentCount(2))
        #expect(!get.acceptsArgumentCount(3))
    }

    @Test("a negative arity means at least its magnitude")
    func minimumArity() {
        let mset = CommandSpec(name: "mset", arity: -3, flags: [], keySpecs: [])
        #expect(!mset.acceptsArgumentCount(2))
        #expect(mset.acceptsArgumentCount(3))
        #expect(mset.acceptsArgumentCount(1000))
        let command = CommandSpec(name: "command", arity: -1, flags: [], keySpecs: [])
        #expect(command.acceptsArgumentCount(1))
    }

    @Test("a Redis 6 entry gets one key spec made from first, last and step")
    func redis6Entries() throws {
        let reply = RESPValue.array([
            .array([
                Self.bulk("get"), .integer(2), Self.flags("readonly", "fast"), .integer(1), .integer(1), .integer(1),
                .array([.simpleString("@read"), .simpleString("@string"), .simpleString("@fast")]),
            ]),
            .array([Self.bulk("mset"), .integer(-3), Self.flags("write", "denyoom"), .integer(1), .integer(-1), .integer(2)]),
            .array([Self.bulk("rpoplpush"), .integer(3), Self.flags("write"), .integer(1), .integer(2), .integer(1), .array([])]),
            .array([Self.bulk("blpop"), .integer(-3), Self.flags("write", "noscript"), .integer(1), .integer(-2), .integer(1)]),
            .array([Self.bulk("eval"), .integer(-3), Self.flags("noscript", "movablekeys"), .integer(0), .integer(0), .integer(0)]),
        ])
        let table = try #require(CommandTable(commandReply: reply))
        #expect(table.count == 5)

        let get = try #require(table["get"])
        #expect(get.arity == 2)
        #expect(get.flags == ["readonly", "fast"])
        // Redis 6 says only that GET reads: its key is read, MSET's are read and written.
        #expect(get.keySpecs == [KeySpec(beginSearch: .index(1), findKeys: .range(lastKey: 0, step: 1, limit: 0), access: .read)])
        #expect(get.subcommands.isEmpty)
        #expect(get.categories == ["read", "string", "fast"])
        #expect(table["rpoplpush"]?.categories == [])
        #expect(table["mset"]?.categories == [])

        #expect(table["mset"]?.keySpecs == [KeySpec(beginSearch: .index(1), findKeys: .range(lastKey: -1, step: 2, limit: 0))])
        #expect(Self.visit(try #require(table["mset"]).keySpecs, ["MSET", "a", "1", "b", "2"]) == [1, 3])
        #expect(Self.visit(try #require(table["rpoplpush"]).keySpecs, ["RPOPLPUSH", "src", "dst"]) == [1, 2])
        #expect(Self.visit(try #require(table["blpop"]).keySpecs, ["BLPOP", "a", "b", "0"]) == [1, 2])
        // first = 0: Redis 6 gives no positions for movable-key commands.
        #expect(table["eval"]?.keySpecs == [])
    }

    @Test("names and flags are folded to lower case")
    func lowerCased() throws {
        let reply = RESPValue.array([
            .array([.simpleString("GET"), .integer(2), Self.flags("ReadOnly", "FAST"), .integer(1), .integer(1), .integer(1)])
        ])
        let table = try #require(CommandTable(commandReply: reply))
        #expect(table["get"]?.name == "get")
        #expect(table["get"]?.flags == ["readonly", "fast"])
    }

    @Test("a Redis 7 entry with key specs and subcommands")
    func redis7Entry() throws {
        let keySpec = RESPValue.array([
            Self.bulk("flags"), .array([.simpleString("RO")]),
            Self.bulk("begin_search"),
            .array([Self.bulk("type"), Self.bulk("index"), Self.bulk("spec"), .array([Self.bulk("index"), .integer(2)])]),
            Self.bulk("find_keys"),
            .array([
                Self.bulk("type"), Self.bulk("range"), Self.bulk("spec"),
                .array([Self.bulk("lastkey"), .integer(0), Self.bulk("keystep"), .integer(1), Self.bulk("limit"), .integer(0)]),
            ]),
        ])
        let encoding = RESPValue.array([
            Self.bulk("object|encoding"), .integer(3), Self.flags("readonly"), .integer(2), .integer(2), .integer(1),
            .array([.simpleString("@keyspace")]), .array([]), .array([keySpec]), .array([]),
        ])
        let help = RESPValue.array([
            Self.bulk("object|help"), .integer(2), Self.flags("loading", "stale"), .integer(0), .integer(0), .integer(0),
            .array([]), .array([]), .array([]), .array([]),
        ])
        let object = RESPValue.array([
            Self.bulk("object"), .integer(-2), .array([]), .integer(0), .integer(0), .integer(0),
            .array([.simpleString("@slow")]), .array([]), .array([]), .array([encoding, help]),
        ])
        let table = try #require(CommandTable(commandReply: .array([object])))
        let spec = try #require(table["object"])
        #expect(spec.arity == -2)
        #expect(spec.keySpecs == [])
        #expect(spec.categories == ["slow"])
        #expect(Set(spec.subcommands.keys) == ["encoding", "help"])
        let sub = try #require(spec.subcommands["encoding"])
        #expect(sub.name == "object|encoding")
        #expect(sub.arity == 3)
        // Flagged RO alone (neither access nor update…): the key needs no particular ACL permission.
        #expect(sub.keySpecs == [KeySpec(beginSearch: .index(2), findKeys: .range(lastKey: 0, step: 1, limit: 0), access: [])])
        #expect(sub.categories == ["keyspace"])
    }

    @Test("a key spec's flags say what the command does with the keys, as Redis's ACL check reads them")
    func keySpecAccess() throws {
        /// The key spec of a command whose one spec has these flags.
        func keySpec(_ flags: String...) throws -> KeySpec {
            let range = RESPValue.array([
                Self.bulk("type"), Self.bulk("range"), Self.bulk("spec"),
                .array([Self.bulk("lastkey"), .integer(0), Self.bulk("keystep"), .integer(1), Self.bulk("limit"), .integer(0)]),
            ])
            let index = RESPValue.array([Self.bulk("type"), Self.bulk("index"), Self.bulk("spec"), .array([Self.bulk("index"), .integer(1)])])
            let spec = RESPValue.array([Self.bulk("flags"), Self.flags(flags), Self.bulk("begin_search"), index, Self.bulk("find_keys"), range])
            let entry = RESPValue.array([
                Self.bulk("x"), .integer(2), .array([]), .integer(1), .integer(1), .integer(1), .array([]), .array([]), .array([spec]),
            ])
            return try #require(CommandTable(commandReply: .array([entry]))?["x"]?.keySpecs.first)
        }
        #expect(try keySpec("RO", "access").access == .read)
        #expect(try keySpec("OW", "update").access == .write)
        #expect(try keySpec("RM", "delete").access == .write)
        #expect(try keySpec("OW", "insert").access == .write)
        #expect(try keySpec("RW", "access", "delete").access == [.read, .write])
        #expect(try keySpec("RO").access == [])
        #expect(try !keySpec("RO", "access").isFlaggedVariable)
        let set = try keySpec("RW", "access", "update", "variable_flags")
        #expect(set.access == [.read, .write])
        #expect(set.isFlaggedVariable)
        #expect(try keySpec("rw", "ACCESS", "Update").access == [.read, .write])
        #expect(try keySpec("not_key").isFlaggedNotKey)
        #expect(try !keySpec("RO", "access").isFlaggedNotKey)
    }

    @Test("a key spec whose parts cannot be read becomes unknown, leaving its siblings intact")
    func unreadableKeySpec() throws {
        let garbled = RESPValue.array([Self.bulk("begin_search"), .array([Self.bulk("type"), Self.bulk("index")])])
        let entry = RESPValue.array([
            Self.bulk("weird"), .integer(-2), .array([]), .integer(1), .integer(1), .integer(1), .array([]), .array([]),
            .array([garbled, .integer(5)]),
        ])
        let table = try #require(CommandTable(commandReply: .array([entry])))
        #expect(table["weird"]?.keySpecs == [KeySpec(beginSearch: .unknown, findKeys: .unknown), KeySpec(beginSearch: .unknown, findKeys: .unknown)])
    }

    @Test(
        "replies that are not a COMMAND reply give no table",
        arguments: [
            RESPValue.error("ERR unknown command 'COMMAND'"), .null, .integer(3), .array([]),
            .array([.array([.bulkString(Array("get".utf8)), .integer(2)])]),
            .array([.array([.integer(1), .integer(2), .array([]), .integer(1), .integer(1), .integer(1)])]),
        ]
    )
    func notACommandReply(reply: RESPValue) {
        #expect(CommandTable(commandReply: reply) == nil)
    }

    @Test("malformed entries are skipped, the rest kept")
    func malformedEntrySkipped() throws {
        let reply = RESPValue.array([
            .integer(1),
            .array([Self.bulk("get"), .integer(2), Self.flags("readonly"), .integer(1), .integer(1), .integer(1)]),
            .array([Self.bulk("bad"), Self.bulk("x"), .array([]), .integer(1), .integer(1), .integer(1)]),
        ])
        let table = try #require(CommandTable(commandReply: reply))
        #expect(table.count == 1)
        #expect(table["get"] != nil)
        #expect(table["bad"] == nil)
    }
}
