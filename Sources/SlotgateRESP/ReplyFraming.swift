//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore

/// What a node link needs from a reply framer: bytes in, complete replies out, each as the exact
/// bytes the node sent. RESP2 links use ``RESPReplyFramer`` (hiredis); RESP3 links use
/// ``RESP3ReplyFramer``; the link cannot tell them apart.
public protocol ReplyFraming: AnyObject {
    /// Adds bytes read from the node.
    func feed(_ bytes: ByteBuffer)

    /// The next complete reply, or `nil` until more bytes arrive.
    func next() throws(RESPReplyFramingError) -> FramedReply?
}

extension RESPReplyFramer: ReplyFraming {}
