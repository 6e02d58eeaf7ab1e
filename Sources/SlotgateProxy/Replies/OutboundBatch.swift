//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore

/// Gathers what one event loop turn writes to a channel into as few pipeline writes as possible.
///
/// Every write through a NIO pipeline costs bookkeeping: a pending-write entry, reference counts,
/// an iovec at flush. For the small replies and commands that make up most Redis traffic, copying
/// them into one buffer is cheaper. Anything over ``copyLimit`` goes out as the slice it is, after
/// what was gathered before it, so the byte order on the wire never changes.
struct OutboundBatch {
    /// Largest write that is copied rather than passed on as its own buffer.
    static let copyLimit = 2048

    /// Small writes since the last flush. Kept between flushes so its storage is reused once the
    /// channel has written it out.
    private var gathered = ByteBuffer()

    /// Adds `bytes` to what the next flush sends.
    mutating func write(_ bytes: ByteBuffer, to context: ChannelHandlerContext) {
        if bytes.readableBytes <= Self.copyLimit {
            self.gathered.writeImmutableBuffer(bytes)
        } else {
            if self.writeGathered(to: context) {
                self.gathered.clear()
            }
            context.write(NIOAny(bytes), promise: nil)
        }
    }

    /// Sends everything written so far.
    mutating func flush(_ context: ChannelHandlerContext) {
        let wroteGathered = self.writeGathered(to: context)
        context.flush()
        if wroteGathered {
            // Emptied only now: the socket has usually taken the bytes, so the storage is ours
            // alone again and is kept, not copied. Emptying it before the flush would allocate anew.
            self.gathered.clear()
        }
    }

    /// Passes the gathered bytes on; `true` if there were any.
    private mutating func writeGathered(to context: ChannelHandlerContext) -> Bool {
        guard self.gathered.readableBytes > 0 else { return false }
        context.write(NIOAny(self.gathered), promise: nil)
        return true
    }
}
