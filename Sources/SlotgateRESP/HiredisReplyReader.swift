//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

internal import CHiredis
import NIOCore

/// hiredis's reply reader for bytes from a connection hiredis does not own (a TLS channel, since
/// Debian's hiredis 0.14 has no TLS): it is fed what arrives and gives back each complete reply
/// as a ``RESPValue``, parsed exactly as on a plain ``BlockingRedisConnection``.
public final class HiredisReplyReader {
    private let reader: UnsafeMutablePointer<redisReader>

    public init() {
        self.reader = redisReaderCreate()
    }

    deinit {
        redisReaderFree(self.reader)
    }

    /// Adds bytes that arrived.
    public func feed(_ bytes: ByteBuffer) {
        bytes.withUnsafeReadableBytes { raw in
            guard let base = raw.baseAddress, raw.count > 0 else { return }
            _ = redisReaderFeed(self.reader, base.assumingMemoryBound(to: CChar.self), raw.count)
        }
    }

    /// The next complete reply, or `nil` until more bytes arrive.
    /// - Throws: when the bytes are not RESP.
    public func next() throws(BlockingRedisConnectionError) -> RESPValue? {
        var reply: UnsafeMutableRawPointer? = nil
        guard redisReaderGetReply(self.reader, &reply) == REDIS_OK else {
            let message = withUnsafeBytes(of: self.reader.pointee.errstr) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw BlockingRedisConnectionError(message: "protocol error from the node: \(message)")
        }
        guard let reply else { return nil }
        defer { freeReplyObject(reply) }
        return decodeReply(reply.assumingMemoryBound(to: redisReply.self))
    }
}

@available(*, unavailable)
extension HiredisReplyReader: Sendable {}
