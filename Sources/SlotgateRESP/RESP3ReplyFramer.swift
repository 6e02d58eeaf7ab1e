//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore

/// Frames the replies of a node link that speaks RESP3 (opened with `HELLO 3`).
///
/// Debian's hiredis 0.14 reads RESP2 only, so RESP3 is measured here, in Swift: every RESP3
/// type — maps `%`, sets `~`, pushes `>`, attributes `|`, nulls `_`, booleans `#`, doubles `,`,
/// big numbers `(`, blob errors `!`, verbatim strings `=` — besides the RESP2 ones. An attribute
/// is framed together with the reply it annotates. Replies leave as the very bytes the node sent.
///
/// The measure walks a reply with a counter, not a stack, so depth costs nothing. That is also why
/// the hiredis framer hands it RESP2 replies nested deeper than hiredis 0.14 accepts (it keeps nine
/// read tasks; Redis 7's own `COMMAND DOCS` nests twelve deep).
public final class RESP3ReplyFramer: ReplyFraming {
    private var unframed: ByteBuffer?

    public init() {}

    public func feed(_ bytes: ByteBuffer) {
        guard bytes.readableBytes > 0 else { return }
        if self.unframed == nil {
            self.unframed = bytes
        } else {
            self.unframed!.writeImmutableBuffer(bytes)
        }
    }

    public func next() throws(RESPReplyFramingError) -> FramedReply? {
        guard let buffered = self.unframed, let (length, kind) = try Self.measure(buffered) else { return nil }
        let bytes = self.unframed!.readSlice(length: length)!
        if self.unframed!.readableBytes == 0 {
            self.unframed = nil
        }
        return FramedReply(kind: kind, bytes: bytes)
    }

    /// The length and kind of the complete reply at the front of `buffer`; `nil` if it is not all there.
    static func measure(_ buffer: ByteBuffer) throws(RESPReplyFramingError) -> (length: Int, kind: RESPReplyKind)? {
        let view = buffer.readableBytesView
        var cursor = view.startIndex
        var valuesToRead = 1
        var kind: RESPReplyKind?
        while valuesToRead > 0 {
            guard cursor < view.endIndex,
                let carriageReturn = view[(cursor + 1)...].firstIndex(of: UInt8(ascii: "\r")),
                carriageReturn + 1 < view.endIndex
            else { return nil }
            let marker = view[cursor]
            let lineEnd = carriageReturn + 2
            // The last value still to read at the top level is the reply itself (after any attribute).
            let isReplyItself = valuesToRead == 1 && kind == nil
            valuesToRead -= 1
            // Every marker but the one-line ones carries a length (a count, for aggregates).
            let isLine = Self.lineMarkers.contains(marker)
            let count: Int
            if isLine {
                count = 0
            } else {
                guard let parsed = parseDecimal(ArraySlice(view[(cursor + 1)..<carriageReturn])) else {
                    throw RESPReplyFramingError(message: "bad length in a RESP3 reply")
                }
                count = parsed
            }
            // The reply's kind is its own first byte's, not an attribute's in front of it.
            if isReplyItself && marker != UInt8(ascii: "|") {
                kind = Self.kind(of: marker, negativeLength: count < 0)
            }
            switch marker {
            case _ where isLine:
                cursor = lineEnd
            case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
                if count < 0 {
                    cursor = lineEnd
                } else {
                    guard view.endIndex - lineEnd >= count + 2 else { return nil }
                    cursor = lineEnd + count + 2
                }
            case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"):
                valuesToRead += max(count, 0)
                cursor = lineEnd
            case UInt8(ascii: "%"):
                valuesToRead += 2 * max(count, 0)
                cursor = lineEnd
            case UInt8(ascii: "|"):
                // The attribute's pairs, then the reply it belongs to.
                valuesToRead += 2 * max(count, 0) + 1
                cursor = lineEnd
            default:
                throw RESPReplyFramingError(message: "unexpected byte \(marker) in a RESP3 reply")
            }
        }
        return (cursor - view.startIndex, kind ?? .array)
    }

    /// Types whose whole value is the one line.
    private static let lineMarkers: Set<UInt8> = Set("+-:_#,(".utf8)

    private static func kind(of marker: UInt8, negativeLength: Bool) -> RESPReplyKind {
        switch marker {
        case UInt8(ascii: "+"): return .simpleString
        case UInt8(ascii: "-"), UInt8(ascii: "!"): return .error
        case UInt8(ascii: ":"): return .integer
        case UInt8(ascii: "_"): return .null
        case UInt8(ascii: "$"): return negativeLength ? .null : .bulkString
        case UInt8(ascii: "*"): return negativeLength ? .null : .array
        case UInt8(ascii: "#"): return .boolean
        case UInt8(ascii: ","): return .double
        case UInt8(ascii: "("): return .bigNumber
        case UInt8(ascii: "="): return .verbatimString
        case UInt8(ascii: "%"): return .map
        case UInt8(ascii: "~"): return .set
        default: return .push
        }
    }
}
