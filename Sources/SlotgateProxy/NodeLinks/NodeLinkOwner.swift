//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import DequeModule
import NIOCore
import SlotgateRESP

/// Whoever a ``NodeLink`` reports to: the loop's router for the shared links, a client session
/// for the links it has to itself (transactions, blocking commands).
package protocol NodeLinkOwner: AnyObject {
    /// The node answered `request`.
    func link(_ link: NodeLink, received reply: FramedReply, for request: RoutedRequest)

    /// A subscriber link delivered a frame (a message, a subscription confirmation, a pong).
    func link(_ link: NodeLink, pushed frame: FramedReply)

    /// The link is gone: it never connected (`connectFailed`), or it dropped. Called before its
    /// requests in flight are answered with errors or given back, so the owner can forget the
    /// link first.
    func linkClosed(_ link: NodeLink, connectFailed: Bool, requestsFailed: Int)

    /// Requests the link gives back unanswered, after ``linkClosed(_:connectFailed:requestsFailed:)``,
    /// because sending them again is safe: they never left (the connection failed), or they only
    /// read. `reason` is what they would have been answered with.
    func link(_ link: NodeLink, returned requests: Deque<RoutedRequest>, reason: String)
}

extension NodeLinkOwner {
    /// Owners without subscriber links hear no pushes.
    package func link(_ link: NodeLink, pushed frame: FramedReply) {}

    /// Owners that do not send requests again answer them with the reason.
    package func link(_ link: NodeLink, returned requests: Deque<RoutedRequest>, reason: String) {
        for request in requests {
            request.target.linkFailed(reason, mayHaveRun: false)
        }
    }
}
