//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
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
    /// The running result of a merge that adds up (see ``ReplyFold``); such a fan-out keeps no parts.
    private var fold: ReplyFold?
    /// Every part's reply, for the other merges.
    private var parts: [FramedReply?] = []
    private var missing: Int

    init(replySlot: ReplySlot, merge: ReplyMerge, partCount: Int) {
        precondition(partCount > 0, "a fan-out has at least one part")
        self.replySlot = replySlot
        self.merge = merge
        self.fold = merge.fold
        if self.fold == nil {
            self.parts = Array(repeating: nil, count: partCount)
        }
        self.missing = partCount
    }

    var isAwaited: Bool { self.replySlot.isAwaited }
    var usesRESP3: Bool { self.replySlot.usesRESP3 }
    var nodeLogin: NodeLogins.ID { self.replySlot.nodeLogin }
    /// A part that may write went to `node` (see ``ReplyTarget/wrote(to:)``).
    func wrote(to node: NodeAddress) { self.replySlot.session.wrote(to: node) }

    /// Records part `index`'s reply; the last part completes the client's reply. Each part
    /// arrives once: a part that is redirected or retried is handed over only when it is done.
    func partArrived(_ index: Int, _ reply: FramedReply) {
        if self.fold != nil {
            self.fold!.add(index, reply)
        } else {
            self.parts[index] = reply
        }
        self.missing -= 1
        guard self.missing == 0 else { return }
        if let fold = self.fold {
            self.replySlot.fill(fold.result())
        } else {
            self.replySlot.fill(self.merge.merge(self.parts.map { $0! }, resp3: self.replySlot.usesRESP3))
        }
    }
}
