//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster

/// A request on its way to a node: the bytes to send, where they belong, and who waits.
///
/// The router keeps the bytes until the node answers, so that a MOVED, ASK or TRYAGAIN reply —
/// all of which mean the command did not run — can send the same bytes again elsewhere.
package struct RoutedRequest {
    /// The command as RESP bytes; usually a slice of what the client sent.
    var wire: ByteBuffer
    /// The slot of the command's keys; `nil` for a command without keys.
    var slot: HashSlot?
    /// Where the reply goes.
    var target: ReplyTarget
    /// Whether the client speaks RESP3, so the request goes on a RESP3 link and the node's reply
    /// bytes are already what the client expects.
    var resp3: Bool
    /// The user the request travels as, so it goes on a link signed in as that user (see
    /// ``NodeLogins``).
    var login: NodeLogins.ID
    /// Redirects and retries so far.
    var attempts: Int = 0
    /// The script of this `EVALSHA` was loaded again after a NOSCRIPT; it is not tried twice.
    var reloadedScript = false
    /// The command only reads: it may go to a replica (`read-from`), and it is sent again rather
    /// than failed when its link drops before the reply.
    var isReadOnly = false
    /// Set once the request waits for its node (see ``HeldRequests``): when it stops waiting.
    var holdDeadline: NIODeadline?
    /// When the request was last handed to a node link, for the node's round trip time.
    var sentAt = NIODeadline.uptimeNanoseconds(0)

    /// A request for `target`, in its client's protocol and as its client's user unless told.
    init(wire: ByteBuffer, slot: HashSlot?, target: ReplyTarget, resp3: Bool? = nil, login: NodeLogins.ID? = nil) {
        self.wire = wire
        self.slot = slot
        self.target = target
        self.resp3 = resp3 ?? target.usesRESP3
        self.login = login ?? target.nodeLogin
    }
}
