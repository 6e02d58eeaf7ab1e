//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateRESP

/// A node's replies without end, as a node link's framer sees them: the same bytes (`unit`, whole
/// replies back to back) over and over, cut into reads of `readSize` bytes, each read handed to
/// the framer and every reply it completes taken out, as ``NodeLink`` does.
///
/// The stream outlives one measured iteration, so a reply longer than what one iteration feeds
/// is framed across iterations, from its first byte to its last, like any other.
final class ReplyStream {
    private let unit: ByteBuffer
    private let readSize: Int
    private let replyLength: Int
    private let framing: ReplyFraming
    /// Where the next read starts in `unit`.
    private var offset = 0
    /// Replies taken out whose length was not `replyLength`: the framer or the inputs are wrong.
    private(set) var misframedCount = 0

    /// A stream of `unit`, made of replies of `replyLength` bytes, in reads of `readSize` bytes
    /// (a divisor of the unit's length), for the RESP3 framer (`resp3`) or the hiredis one.
    init(unit: ByteBuffer, readSize: Int, replyLength: Int, resp3: Bool) {
        precondition(unit.readableBytes % readSize == 0 && unit.readableBytes % replyLength == 0)
        self.unit = unit
        self.readSize = readSize
        self.replyLength = replyLength
        self.framing = ReplyFraming(resp3: resp3)
    }

    /// Feeds the next `reads` reads and takes out the replies they complete.
    func feed(reads: Int) throws(RESPReplyFramingError) {
        for _ in 0..<reads {
            self.framing.feed(self.unit.getSlice(at: self.unit.readerIndex + self.offset, length: self.readSize)!)
            self.offset += self.readSize
            if self.offset == self.unit.readableBytes {
                self.offset = 0
            }
            while let reply = try self.framing.next() {
                if reply.bytes.readableBytes != self.replyLength {
                    self.misframedCount += 1
                }
            }
        }
    }
}
