//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore

/// Measures a RESP2 reply without parsing it into values; the framer's fallback for replies that
/// hiredis 0.14 refuses.
///
/// Debian's hiredis keeps a fixed stack of nine read tasks and rejects arrays nested deeper than
/// seven levels, yet Redis 7 itself sends such replies (`COMMAND DOCS` nests twelve deep). The
/// scanner walks the reply with a counter instead of a stack, so depth costs nothing.
enum RESPReplyScanner {
    /// The length of the complete reply at the front of `buffer`, or `nil` if it is not all there yet.
    static func lengthOfFirstReply(in buffer: ByteBuffer) throws(RESPReplyFramingError) -> Int? {
        let view = buffer.readableBytesView
        var cursor = view.startIndex
        var valuesToRead = 1
        while valuesToRead > 0 {
            guard cursor < view.endIndex,
                let carriageReturn = view[(cursor + 1)...].firstIndex(of: UInt8(ascii: "\r")),
                carriageReturn + 1 < view.endIndex
            else { return nil }
            let marker = view[cursor]
            let lineEnd = carriageReturn + 2
            valuesToRead -= 1
            switch marker {
            case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"):
                cursor = lineEnd
            case UInt8(ascii: "$"), UInt8(ascii: "*"):
                guard let length = parseDecimal(ArraySlice(view[(cursor + 1)..<carriageReturn])) else {
                    throw RESPReplyFramingError(message: "bad length line in a deep reply")
                }
                if marker == UInt8(ascii: "*") {
                    valuesToRead += max(length, 0)
                    cursor = lineEnd
                } else if length < 0 {
                    cursor = lineEnd
                } else {
                    guard view.endIndex - lineEnd >= length + 2 else { return nil }
                    cursor = lineEnd + length + 2
                }
            default:
                throw RESPReplyFramingError(message: "unexpected byte \(marker) in a deep reply")
            }
        }
        return cursor - view.startIndex
    }
}
