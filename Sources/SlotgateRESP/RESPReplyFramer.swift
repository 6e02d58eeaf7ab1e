//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

private import CHiredis
import NIOCore

/// One complete reply from a node: its kind and its exact bytes, ready to forward.
public struct FramedReply: Sendable {
    public var kind: RESPReplyKind
    public var bytes: ByteBuffer

    /// Whether the reply is an error whose text starts with `prefix` (`"MOVED "`, `"ASK "`, …).
    public func isError(startingWith prefix: StaticString) -> Bool {
        guard self.kind == .error, self.bytes.readableBytes > prefix.utf8CodeUnitCount else { return false }
        return prefix.withUTF8Buffer { prefixBytes in
            self.bytes.withUnsafeReadableBytes { replyBytes in
                // Skip the leading '-'.
                zip(prefixBytes, replyBytes.dropFirst()).allSatisfy { $0 == $1 }
            }
        }
    }

    /// The text of an error or simple-string reply, without its marker and line end.
    public var lineText: String {
        let view = self.bytes.readableBytesView
        return String(decoding: view.dropFirst().prefix { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
    }
}

/// A node link's reply framer: finds where each RESP2 reply ends in the byte stream from a node,
/// so that reply can be handed to its client as the very bytes the node sent.
///
/// hiredis's `redisReader` does the parsing. It is created without object functions, so it builds
/// no reply objects at all and returns each complete reply's type code in place of an object. The
/// reader keeps its own copy of the bytes; the framer keeps the same bytes in a `ByteBuffer` and
/// learns each reply's length from how far the reader's cursor moved (`len - pos` before and after
/// `redisReaderGetReply`, which is exact across the reader's buffer compaction), then slices.
public final class RESPReplyFramer {
    private let reader: UnsafeMutablePointer<redisReader>
    private var unframed: ByteBuffer?

    public init() {
        guard let reader = redisReaderCreateWithFunctions(nil) else {
            fatalError("hiredis could not allocate a reader")
        }
        self.reader = reader
    }

    deinit {
        redisReaderFree(self.reader)
    }

    /// Bytes fed but not yet returned as replies.
    public var bufferedByteCount: Int { self.unframed?.readableBytes ?? 0 }

    /// Adds bytes read from the node.
    public func feed(_ bytes: ByteBuffer) {
        guard bytes.readableBytes > 0 else { return }
        bytes.withUnsafeReadableBytes { raw in
            _ = redisReaderFeed(self.reader, raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
        }
        if self.unframed == nil {
            self.unframed = bytes
        } else {
            self.unframed!.writeImmutableBuffer(bytes)
        }
    }

    /// The next complete reply, or `nil` until more bytes arrive.
    /// - Throws: ``RESPReplyFramingError`` when the node's bytes are not RESP2; the link is unusable after that.
    public func next() throws(RESPReplyFramingError) -> FramedReply? {
        let before = self.unconsumedByteCount
        var reply: UnsafeMutableRawPointer? = nil
        guard redisReaderGetReply(self.reader, &reply) == REDIS_OK else {
            let message = withUnsafeBytes(of: self.reader.pointee.errstr) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw RESPReplyFramingError(message: message)
        }
        guard let reply else { return nil }
        let consumed = before - self.unconsumedByteCount
        guard let kind = RESPReplyKind(rawValue: Int(bitPattern: reply)), let bytes = self.unframed?.readSlice(length: consumed) else {
            throw RESPReplyFramingError(message: "reader and buffer disagree on the reply length")
        }
        if self.unframed?.readableBytes == 0 {
            self.unframed = nil
        }
        return FramedReply(kind: kind, bytes: bytes)
    }

    private var unconsumedByteCount: Int {
        self.reader.pointee.len - self.reader.pointee.pos
    }
}

/// A node sent bytes that are not valid RESP2; the reason comes from hiredis.
public struct RESPReplyFramingError: Error, Sendable, CustomStringConvertible {
    public let message: String

    public init(message: String) {
        self.message = message
    }

    public var description: String { "node protocol error: \(self.message)" }
}
