//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import Testing

@testable import SlotgateProxy

/// Protects the per-loop counters: outcomes and error codes counted per command, made-up command
/// names and error codes unable to grow the tables without bound, latencies per class.
@Suite("LoopStats")
struct LoopStatsTests {
    @Test("calls, errors and error codes are counted per command; latency per class")
    func counts() {
        let stats = LoopStats()
        stats.answered(statIndex: -1, name: { "get" }, commandClass: .routed, reply: ByteBuffer(string: "$1\r\na\r\n"), microseconds: 100)
        stats.answered(
            statIndex: -1,
            name: { "get" },
            commandClass: .routed,
            reply: ByteBuffer(string: "-WRONGTYPE Operation\r\n"),
            microseconds: 300
        )
        stats.answered(statIndex: -1, name: { "mget" }, commandClass: .split, reply: ByteBuffer(string: "-CROSSSLOT Keys\r\n"), microseconds: 50)
        #expect(stats.commands["get"]?.calls == 2 && stats.commands["get"]?.errors == 1)
        #expect(stats.clientErrors == ["WRONGTYPE": 1, "CROSSSLOT": 1])
        #expect(stats.latency[.routed]?.count == 2)
        #expect(stats.latency[.split]?.microseconds(atPercentile: 50) == 50)
    }

    @Test("unknown commands count as one name, and past the cap new names and codes count as other")
    func bounded() {
        let stats = LoopStats()
        for index in 0..<1000 {
            stats.answered(
                statIndex: -1,
                name: { "made-up-\(index)" },
                commandClass: .local,
                reply: ByteBuffer(string: "-ERR unknown command 'x'\r\n"),
                microseconds: 1
            )
        }
        #expect(stats.commands.keys.sorted() == ["unknown"])
        for index in 0..<1000 {
            stats.answered(
                statIndex: -1,
                name: { "cmd\(index)" },
                commandClass: .routed,
                reply: ByteBuffer(string: "-CODE\(index) from a script\r\n"),
                microseconds: 1
            )
        }
        #expect(stats.commands.count == LoopStats.maxCommandNames + 1)
        #expect(stats.clientErrors.count == LoopStats.maxErrorCodes + 1)
        #expect(stats.clientErrors["OTHER"] != nil)
    }

    @Test("commands the catalog knows are counted by their index and reported by name, across a new catalog")
    func countedByCatalogIndex() throws {
        let table = CommandTable([
            CommandSpec(name: "get", arity: 2, flags: ["readonly"], keySpecs: []),
            CommandSpec(name: "set", arity: -3, flags: ["write"], keySpecs: []),
        ])
        let catalog = CommandCatalog(table)
        let stats = LoopStats()
        stats.useCatalog(catalog)
        let set = try #require(Array("set".utf8).withUnsafeBytes { catalog.entry(named: $0) })
        for _ in 0..<3 {
            stats.answered(statIndex: set.statIndex, name: { "wrong" }, commandClass: .routed, reply: ByteBuffer(string: "+OK\r\n"), microseconds: 5)
        }
        #expect(stats.commands == ["set": LoopStats.CommandTally(calls: 3, errors: 0)])
        stats.useCatalog(CommandCatalog(table))
        stats.answered(statIndex: set.statIndex, name: { "wrong" }, commandClass: .routed, reply: ByteBuffer(string: "-ERR x\r\n"), microseconds: 5)
        #expect(stats.commands == ["set": LoopStats.CommandTally(calls: 4, errors: 1)])
    }

    @Test("each command class has its own place in the latency table")
    func commandClassIndexes() {
        #expect(CommandClass.allCases.map(\.index) == Array(0..<CommandClass.allCases.count))
    }
}
