//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster

/// A request on its way to a node: the bytes to send, where they belong, and who waits.
///
/// The router keeps the bytes until the node answers, so that a MOVED, ASK or TRYAGAIN reply —
/// all of which mean the command did not run — can send the same bytes again elsewhere.
struct RoutedRequest {
    /// The command as RESP bytes; usually a slice of what the client sent.
    var wire: ByteBuffer
    /// The slot of the command's keys; `nil` for a command without keys.
    var slot: HashSlot?
    /// Where the reply goes.
    var target: ReplyTarget
    /// Redirects and retries so far.
    var attempts: Int = 0
    /// The script of this `EVALSHA` was loaded again after a NOSCRIPT; it is not tried twice.
    var reloadedScript = false
}
