//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateRESP
import Testing

@testable import SlotgateProxy

/// How the per-master answers of one `WAIT` (a mark's reply, then the `WAIT`'s, per master)
/// become the client's one answer.
@Suite struct LeastWaitCountTests {
    private static func reply(_ kind: RESPReplyKind, _ text: String) -> FramedReply {
        FramedReply(kind: kind, bytes: ByteBuffer(string: text))
    }

    private static func merged(_ parts: [FramedReply]) -> String {
        String(buffer: ReplyMerge.leastWaitCount.merge(parts, resp3: false))
    }

    private static let marked = reply(.null, "$-1\r\n")

    @Test func theLeastCountAmongTheMasters() {
        #expect(Self.merged([Self.marked, Self.reply(.integer, ":2\r\n"), Self.marked, Self.reply(.integer, ":1\r\n")]) == ":1\r\n")
        #expect(Self.merged([Self.marked, Self.reply(.integer, ":0\r\n")]) == ":0\r\n")
    }

    @Test func aMarkTheMasterRefusedIsTheAnswer() {
        let refused = Self.reply(.error, "-OOM command not allowed when used memory > 'maxmemory'.\r\n")
        #expect(Self.merged([Self.marked, Self.reply(.integer, ":1\r\n"), refused, Self.reply(.integer, ":1\r\n")]) == "-OOM command not allowed when used memory > 'maxmemory'.\r\n")
    }

    @Test func waitAOFAnswersTheLeastOfEachCount() {
        let parts = [Self.marked, Self.reply(.array, "*2\r\n:1\r\n:2\r\n"), Self.marked, Self.reply(.array, "*2\r\n:0\r\n:1\r\n")]
        #expect(Self.merged(parts) == "*2\r\n:0\r\n:1\r\n")
    }
}
