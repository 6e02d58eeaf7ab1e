//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateRESP

/// The merges that only add up — `+OK` when every part said so (`MSET`, `FLUSHALL`), the sum of
/// the parts' integers (`DEL`, `DBSIZE`) — folded in one part at a time as the parts arrive, so a
/// split command keeps no part's reply around, only what the merged reply needs.
///
/// The outcome is the one ``ReplyMerge`` describes: the first part, in part order, that failed
/// decides the reply, with its error as the node sent it.
struct ReplyFold {
    /// What the parts add up to.
    enum Kind {
        /// The first part's reply, `+OK`, when none failed.
        case allOK
        /// The sum of the parts' integers.
        case sum
    }

    private let kind: Kind
    /// The failed part with the lowest index so far: an error, or a reply a sum cannot take.
    private var failure: (index: Int, reply: FramedReply, isError: Bool)?
    /// Part 0's reply, for ``Kind/allOK``.
    private var first: FramedReply?
    private var total = 0

    init(_ kind: Kind) {
        self.kind = kind
    }

    /// Takes part `index`'s reply into account.
    mutating func add(_ index: Int, _ reply: FramedReply) {
        let value = self.kind == .sum ? reply.integerValue : nil
        if reply.kind == .error || (self.kind == .sum && value == nil) {
            if self.failure.map({ index < $0.index }) ?? true {
                self.failure = (index, reply, reply.kind == .error)
            }
            return
        }
        if index == 0 {
            self.first = reply
        }
        self.total += value ?? 0
    }

    /// The merged reply, once every part is in.
    func result() -> ByteBuffer {
        if let failure = self.failure {
            return failure.isError ? failure.reply.bytes : ReplyMerge.unexpected(failure.reply)
        }
        switch self.kind {
        case .allOK:
            return self.first?.bytes ?? ByteBuffer()
        case .sum:
            var merged = ByteBuffer()
            merged.writeRESPInteger(self.total)
            return merged
        }
    }
}
