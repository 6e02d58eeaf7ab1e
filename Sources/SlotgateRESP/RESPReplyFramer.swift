//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

private import CHiredis
import NIOCore

/// One complete reply from a node: its kind and its exact bytes, ready to forward.
public struct FramedReply: Sendable {
    public var kind: RESPReplyKind
    public var bytes: ByteBuffer

    public init(kind: RESPReplyKind, bytes: ByteBuffer) {
        self.kind = kind
        self.bytes = bytes
    }

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
/// each `redisReaderGetReply`, which is exact across the reader's buffer compaction), then slices.
/// The reader also moves its cursor over the parts of a reply that have arrived, while the reply is
/// not yet complete, so those moves are added up until the reply completes.
///
/// Replies nested deeper than hiredis 0.14 accepts are measured by ``RESP3ReplyFramer`` instead,
/// after which a fresh reader takes over with the bytes that follow.
public final class RESPReplyFramer {
    private var reader: UnsafeMutablePointer<redisReader>
    private var unframed: ByteBuffer?
    /// Bytes of the reply at the front of `unframed` that the reader has already moved past.
    private var consumedOfCurrentReply = 0
    /// Set while the reply at the front is one hiredis refused for its depth.
    private var scanningDeepReply = false

    public init() {
        self.reader = Self.makeReader()
    }

    private static func makeReader() -> UnsafeMutablePointer<redisReader> {
        guard let reader = redisReaderCreateWithFunctions(nil) else {
            fatalError("hiredis could not allocate a reader")
        }
        return reader
    }

    deinit {
        redisReaderFree(self.reader)
    }

    /// Bytes fed but not yet returned as replies.
    public var bufferedByteCount: Int { self.unframed?.readableBytes ?? 0 }

    /// Adds bytes read from the node.
    public func feed(_ bytes: ByteBuffer) {
        guard bytes.readableBytes > 0 else { return }
        if !self.scanningDeepReply {
            self.feedReader(bytes)
        }
        if self.unframed == nil {
            self.unframed = bytes
        } else {
            self.unframed!.writeImmutableBuffer(bytes)
        }
    }

    private func feedReader(_ bytes: ByteBuffer) {
        bytes.withUnsafeReadableBytes { raw in
            _ = redisReaderFeed(self.reader, raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
        }
    }

    /// The next complete reply, or `nil` until more bytes arrive.
    /// - Throws: ``RESPReplyFramingError`` when the node's bytes are not RESP2; the link is unusable after that.
    public func next() throws(RESPReplyFramingError) -> FramedReply? {
        if self.scanningDeepReply {
            return try self.nextDeepReply()
        }
        let before = self.unconsumedByteCount
        var reply: UnsafeMutableRawPointer? = nil
        guard redisReaderGetReply(self.reader, &reply) == REDIS_OK else {
            let message = withUnsafeBytes(of: self.reader.pointee.errstr) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard message.contains("nested multi bulk") else {
                throw RESPReplyFramingError(message: message)
            }
            self.scanningDeepReply = true
            return try self.nextDeepReply()
        }
        self.consumedOfCurrentReply += before - self.unconsumedByteCount
        guard let reply else { return nil }
        guard let kind = RESPReplyKind(rawValue: Int(bitPattern: reply)) else {
            throw RESPReplyFramingError(message: "hiredis returned an unknown reply type")
        }
        return try self.takeReply(kind: kind, length: self.consumedOfCurrentReply)
    }

    /// Measures the too-deep reply at the front itself, then hands what follows to a fresh reader.
    private func nextDeepReply() throws(RESPReplyFramingError) -> FramedReply? {
        // RESP2 is a subset of RESP3, and the RESP3 measure walks any depth.
        guard let unframed = self.unframed, let (length, _) = try RESP3ReplyFramer.measure(unframed) else { return nil }
        let reply = try self.takeReply(kind: .array, length: length)
        self.scanningDeepReply = false
        redisReaderFree(self.reader)
        self.reader = Self.makeReader()
        if let rest = self.unframed {
            self.feedReader(rest)
        }
        return reply
    }

    private func takeReply(kind: RESPReplyKind, length: Int) throws(RESPReplyFramingError) -> FramedReply {
        guard let bytes = self.unframed?.readSlice(length: length) else {
            throw RESPReplyFramingError(message: "reader and buffer disagree on the reply length")
        }
        self.consumedOfCurrentReply = 0
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
