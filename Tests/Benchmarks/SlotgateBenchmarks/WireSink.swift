//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore

/// The far end of an embedded channel: takes every write at once, as a socket with room in its
/// send buffer does, and keeps only a count of the bytes.
///
/// Without it the embedded channel would keep each written buffer until it is read back, so
/// Slotgate's outbound buffers would still be shared when it empties them after a flush, and it
/// would allocate new ones, which it does not do on a real socket.
final class WireSink: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer

    /// Bytes written so far.
    private(set) var byteCount = 0

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        self.byteCount += self.unwrapOutboundIn(data).readableBytes
        promise?.succeed()
    }

    func flush(context: ChannelHandlerContext) {}
}
