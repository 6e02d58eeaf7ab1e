//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateRESP

/// Whoever a ``NodeLink`` reports to: the loop's router for the shared links, a client session
/// for the links it has to itself (transactions, blocking commands).
protocol NodeLinkOwner: AnyObject {
    /// The node answered `request`.
    func link(_ link: NodeLink, received reply: FramedReply, for request: RoutedRequest)

    /// A subscriber link delivered a frame (a message, a subscription confirmation, a pong).
    func link(_ link: NodeLink, pushed frame: FramedReply)

    /// The link is gone: it never connected (`connectFailed`), or it dropped. Its requests in
    /// flight have already been answered with errors.
    func linkClosed(_ link: NodeLink, connectFailed: Bool, requestsFailed: Int)
}

extension NodeLinkOwner {
    /// Owners without subscriber links hear no pushes.
    func link(_ link: NodeLink, pushed frame: FramedReply) {}
}
