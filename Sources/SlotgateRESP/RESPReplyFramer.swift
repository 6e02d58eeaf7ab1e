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
/// reader keeps its own copy of the bytes; the framer keeps the same bytes (see ``FramingBuffer``)
/// and learns each reply's length from how far the reader's cursor moved (`len - pos` before and
/// after each `redisReaderGetReply`, which is exact across the reader's buffer compaction), then
/// slices. The reader also moves its cursor over the parts of a reply that have arrived, while the
/// reply is not yet complete, so those moves are added up until the reply completes.
///
/// The reader is fed at most ``feedSize`` bytes at a time, and only when it has no complete reply
/// left: once it has consumed 1 KB, hiredis moves the bytes it still holds to the front of its
/// buffer on every `redisReaderGetReply`, so feeding it a whole 64 KB read at once would move
/// tens of kilobytes per kilobyte of replies.
///
/// Replies nested deeper than hiredis 0.14 accepts are measured by ``RESPReplyMeasure`` instead,
/// after which a fresh reader takes over with the bytes that follow.
public final class RESPReplyFramer {
    /// The most bytes handed to the reader at once.
    static let feedSize = 1024

    private var reader: UnsafeMutablePointer<redisReader>
    private var buffer = FramingBuffer()
    /// Bytes at the front of `buffer` already handed to the reader.
    private var fedCount = 0
    /// Bytes of the reply at the front of `buffer` that the reader has already moved past.
    private var consumedOfCurrentReply = 0
    /// Set while the reply at the front is one hiredis refused for its depth, and measured here.
    private var deepReply: RESPReplyMeasure?

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
    public var bufferedByteCount: Int { self.buffer.count }

    /// Adds bytes read from the node.
    public func feed(_ bytes: ByteBuffer) {
        guard bytes.readableBytes > 0 else { return }
        self.buffer.append(bytes)
    }

    /// The next complete reply, or `nil` until more bytes arrive.
    /// - Throws: ``RESPReplyFramingError`` when the node's bytes are not RESP2; the link is unusable after that.
    public func next() throws(RESPReplyFramingError) -> FramedReply? {
        while true {
            if self.deepReply != nil {
                return try self.nextDeepReply()
            }
            let before = self.unconsumedByteCount
            var reply: UnsafeMutableRawPointer? = nil
            guard redisReaderGetReply(self.reader, &reply) == REDIS_OK else {
                let message = withUnsafeBytes(of: self.reader.pointee.errstr) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                guard message.contains("nested multi bulk") else {
                    throw RESPReplyFramingError(message: message)
                }
                self.deepReply = RESPReplyMeasure()
                continue
            }
            self.consumedOfCurrentReply += before - self.unconsumedByteCount
            if let reply {
                guard let kind = RESPReplyKind(rawValue: Int(bitPattern: reply)) else {
                    throw RESPReplyFramingError(message: "hiredis returned an unknown reply type")
                }
                return try self.takeReply(kind: kind, length: self.consumedOfCurrentReply)
            }
            guard self.feedReader() else { return nil }
        }
    }

    /// Hands the reader the next bytes it has not seen, up to ``feedSize``; `false` when there are none.
    private func feedReader() -> Bool {
        var fed = 0
        self.buffer.forEachRun(from: self.fedCount) { run, _ in
            fed = min(run.count, Self.feedSize)
            _ = redisReaderFeed(self.reader, run.baseAddress!.assumingMemoryBound(to: CChar.self), fed)
            return false
        }
        self.fedCount += fed
        return fed > 0
    }

    /// Measures the too-deep reply at the front itself, then hands what follows to a fresh reader.
    private func nextDeepReply() throws(RESPReplyFramingError) -> FramedReply? {
        // RESP2 is a subset of RESP3, and the measure walks any depth.
        guard let (length, _) = try RESP3ReplyFramer.measureNext(&self.deepReply!, in: self.buffer) else { return nil }
        self.deepReply = nil
        redisReaderFree(self.reader)
        self.reader = Self.makeReader()
        self.fedCount = length
        return try self.takeReply(kind: .array, length: length)
    }

    private func takeReply(kind: RESPReplyKind, length: Int) throws(RESPReplyFramingError) -> FramedReply {
        guard let bytes = self.buffer.take(length) else {
            throw RESPReplyFramingError(message: "reader and buffer disagree on the reply length")
        }
        self.consumedOfCurrentReply = 0
        self.fedCount -= length
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
