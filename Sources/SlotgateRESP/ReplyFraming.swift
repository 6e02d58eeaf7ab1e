//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore

/// A node link's reply framer: bytes in, complete replies out, each as the exact bytes the node
/// sent. RESP2 links use ``RESPReplyFramer`` (hiredis); RESP3 links use ``RESP3ReplyFramer``;
/// the link cannot tell them apart. An enum rather than a protocol existential, so the link's
/// calls for every read and every reply are direct.
public enum ReplyFraming {
    case resp2(RESPReplyFramer)
    case resp3(RESP3ReplyFramer)

    /// A framer for a link that speaks RESP3 (`resp3`) or RESP2.
    public init(resp3: Bool) {
        self = resp3 ? .resp3(RESP3ReplyFramer()) : .resp2(RESPReplyFramer())
    }

    /// Adds bytes read from the node.
    public func feed(_ bytes: ByteBuffer) {
        switch self {
        case .resp2(let framer): framer.feed(bytes)
        case .resp3(let framer): framer.feed(bytes)
        }
    }

    /// The next complete reply, or `nil` until more bytes arrive.
    public func next() throws(RESPReplyFramingError) -> FramedReply? {
        switch self {
        case .resp2(let framer): return try framer.next()
        case .resp3(let framer): return try framer.next()
        }
    }
}
