//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import Testing

@testable import SlotgateProxy

/// Protects the per-loop counters: outcomes and error codes counted per command, made-up command
/// names and error codes unable to grow the tables without bound, latencies per class.
@Suite("LoopStats")
struct LoopStatsTests {
    @Test("calls, errors and error codes are counted per command; latency per class")
    func counts() {
        let stats = LoopStats()
        stats.answered("get", commandClass: .routed, reply: ByteBuffer(string: "$1\r\na\r\n"), microseconds: 100)
        stats.answered("get", commandClass: .routed, reply: ByteBuffer(string: "-WRONGTYPE Operation\r\n"), microseconds: 300)
        stats.answered("mget", commandClass: .split, reply: ByteBuffer(string: "-CROSSSLOT Keys\r\n"), microseconds: 50)
        #expect(stats.commands["get"]?.calls == 2 && stats.commands["get"]?.errors == 1)
        #expect(stats.clientErrors == ["WRONGTYPE": 1, "CROSSSLOT": 1])
        #expect(stats.latency[.routed]?.count == 2)
        #expect(stats.latency[.split]?.microseconds(atPercentile: 50) == 50)
    }

    @Test("unknown commands count as one name, and past the cap new names and codes count as other")
    func bounded() {
        let stats = LoopStats()
        for index in 0..<1000 {
            stats.answered("made-up-\(index)", commandClass: .local, reply: ByteBuffer(string: "-ERR unknown command 'x'\r\n"), microseconds: 1)
        }
        #expect(stats.commands.keys.sorted() == ["unknown"])
        for index in 0..<1000 {
            stats.answered("cmd\(index)", commandClass: .routed, reply: ByteBuffer(string: "-CODE\(index) from a script\r\n"), microseconds: 1)
        }
        #expect(stats.commands.count == LoopStats.maxCommandNames + 1)
        #expect(stats.clientErrors.count == LoopStats.maxErrorCodes + 1)
        #expect(stats.clientErrors["OTHER"] != nil)
    }
}
