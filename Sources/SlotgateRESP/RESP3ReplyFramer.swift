//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore

/// Frames the replies of a node link that speaks RESP3 (opened with `HELLO 3`).
///
/// Debian's hiredis 0.14 reads RESP2 only, so RESP3 is measured here, in Swift, by
/// ``RESPReplyMeasure``, which looks at each byte once however the replies are cut into reads.
/// Replies leave as the very bytes the node sent, sliced from the reads they arrived in (see
/// ``FramingBuffer``).
///
/// The measure keeps a count, not a stack, so depth costs nothing. That is also why the hiredis
/// framer hands it RESP2 replies nested deeper than hiredis 0.14 accepts (it keeps nine read
/// tasks; Redis 7's own `COMMAND DOCS` nests twelve deep).
public final class RESP3ReplyFramer {
    private var buffer = FramingBuffer()
    private var measure = RESPReplyMeasure()

    public init() {}

    /// Bytes fed but not yet returned as replies.
    public var bufferedByteCount: Int { self.buffer.count }

    public func feed(_ bytes: ByteBuffer) {
        guard bytes.readableBytes > 0 else { return }
        self.buffer.append(bytes)
    }

    public func next() throws(RESPReplyFramingError) -> FramedReply? {
        guard let (length, kind) = try Self.measureNext(&self.measure, in: self.buffer) else { return nil }
        return FramedReply(kind: kind, bytes: self.buffer.take(length)!)
    }

    /// Goes on measuring the reply at the front of `buffer` where `measure` stopped.
    static func measureNext(
        _ measure: inout RESPReplyMeasure,
        in buffer: FramingBuffer
    ) throws(RESPReplyFramingError) -> (length: Int, kind: RESPReplyKind)? {
        var found: (length: Int, kind: RESPReplyKind)?
        try buffer.forEachRun(from: measure.measured) { run, _ throws(RESPReplyFramingError) in
            found = try measure.scan(run)
            return found == nil
        }
        return found
    }

    /// The length and kind of the complete reply at the front of `buffer`; `nil` if it is not all there.
    static func measure(_ buffer: ByteBuffer) throws(RESPReplyFramingError) -> (length: Int, kind: RESPReplyKind)? {
        var measure = RESPReplyMeasure()
        return try buffer.withUnsafeReadableBytes { bytes throws(RESPReplyFramingError) in try measure.scan(bytes) }
    }
}
