//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateRESP

/// A client's `AUTH` (or `HELLO … AUTH`) under `acl-mode passthrough`, on its way to the cluster.
///
/// The user and password go to one master as `AUTH user password`, on a link of their own that
/// never signed in, so no shared link changes user. The node's answer is the verdict: `+OK`, or
/// the error the client then gets (`-WRONGPASS …`). The link closes once it has answered; the
/// user's own links open later, as its commands need them.
final class PassthroughSignIn {
    /// The session that waits, holding this sign-in until it ends.
    private unowned(unsafe) let session: ClientSession
    let command: RESPCommand
    let name: String
    let replySlot: ReplySlot
    /// `AUTH user password`, what the user's links will send first once it is accepted.
    let authCommand: ByteBuffer
    private var link: NodeLink?

    init(session: ClientSession, command: RESPCommand, name: String, replySlot: ReplySlot, authCommand: ByteBuffer) {
        self.session = session
        self.command = command
        self.name = name
        self.replySlot = replySlot
        self.authCommand = authCommand
    }

    /// Asks `node` to check the user and password.
    func start(at node: NodeAddress) {
        let links = self.session.loop.links!
        let link = links.open(to: node, owner: self, resp3: false, login: links.login(signingInWith: nil))
        self.link = link
        link.send(RoutedRequest(wire: self.authCommand, slot: nil, target: .discard))
    }

    /// The client left: the node's answer is of no use any more.
    func abandon() {
        let link = self.link
        self.link = nil
        link?.abandon()
    }

    /// Ends the sign-in with `verdict`, the node's answer or the error standing in for one; the
    /// first verdict counts.
    private func finish(_ verdict: FramedReply) {
        guard let link = self.link else { return }
        self.link = nil
        self.session.signIn(self, concluded: verdict)
        link.close()
    }
}

extension PassthroughSignIn: NodeLinkOwner {
    func link(_ link: NodeLink, received reply: FramedReply, for request: RoutedRequest) {
        self.finish(reply)
    }

    func linkClosed(_ link: NodeLink, connectFailed: Bool, requestsFailed: Int) {
        var error = ByteBuffer()
        error.writeRESPError(ProxyErrors.signInUnchecked(link.address))
        self.finish(FramedReply(kind: .error, bytes: error))
    }
}

@available(*, unavailable)
extension PassthroughSignIn: Sendable {}
