//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateRESP

/// One client command that became several node requests (a split `MGET`, a broadcast `DBSIZE`):
/// it gathers the parts' replies and, once the last one is in, fills the client's slot with the
/// merged reply.
///
/// Each part travels as an ordinary routed request, so a part answered with MOVED or ASK is
/// redirected on its own; the merged reply keeps its place in the client's line meanwhile.
final class FanOut {
    private let replySlot: ReplySlot
    private let merge: ReplyMerge
    private var parts: [FramedReply?]
    private var missing: Int

    init(replySlot: ReplySlot, merge: ReplyMerge, partCount: Int) {
        precondition(partCount > 0, "a fan-out has at least one part")
        self.replySlot = replySlot
        self.merge = merge
        self.parts = Array(repeating: nil, count: partCount)
        self.missing = partCount
    }

    var isAwaited: Bool { self.replySlot.isAwaited }
    var usesRESP3: Bool { self.replySlot.usesRESP3 }

    /// Records part `index`'s reply; the last part completes the client's reply.
    func partArrived(_ index: Int, _ reply: FramedReply) {
        guard self.parts[index] == nil else { return }
        self.parts[index] = reply
        self.missing -= 1
        if self.missing == 0 {
            self.replySlot.fill(self.merge.merge(self.parts.map { $0! }, resp3: self.replySlot.usesRESP3))
        }
    }
}
