//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import DequeModule
import NIOCore
import SlotgateCluster
import SlotgateRESP

/// Blocking commands (`BLPOP`, `BLMOVE`, `BZPOPMIN`, `XREAD … BLOCK`, …) run on a node link the
/// client has to itself, so a client waiting for a push never stalls the shared link. Commands the
/// client sends meanwhile are held and run after it, in order, as Redis would run them.
extension ClientSession {
    /// Sends a blocking command (see ``CommandPlan/blocking(slot:master:)``) on a link of the
    /// client's own to `node`, after `ASKING` when a redirect said `ASK`.
    func sendBlocking(_ request: RoutedRequest, to node: NodeAddress, asking: Bool) {
        guard let link = self.openExclusiveLink(to: node) else {
            request.target.deliverError(ProxyErrors.exclusiveLinksExhausted(self.loop.shared.exclusiveLinks))
            return
        }
        self.blockingLink = link
        if link.nodeClientID == nil {
            link.send(RoutedRequest(wire: ProxyReplies.clientIDCommand, slot: nil, target: .linkIdentity))
        }
        if asking {
            link.send(RoutedRequest(wire: ProxyReplies.askingCommand, slot: nil, target: .discard))
        }
        link.send(request)
    }

    /// The blocking command's reply. A redirect means it did not run: it is sent again to the named
    /// node on a new link of its own. Otherwise the link is let go and the held commands run.
    func blockingLink(_ link: NodeLink, received reply: FramedReply, for request: RoutedRequest) {
        if case .linkIdentity = request.target {
            link.nodeClientID = reply.integerValue
            return
        }
        guard case .client = request.target else { return }
        let redirect = Redirect(reply: reply)
        self.blockingLink = nil
        if redirect == nil {
            self.releaseExclusiveLink(link)
        } else {
            link.close()
        }
        if let redirect, request.attempts < self.loop.settings.maxRedirects {
            var retry = request
            retry.attempts += 1
            if redirect.kind == .moved {
                self.router.topologyChanged()
            }
            self.sendBlocking(retry, to: redirect.target, asking: redirect.kind == .ask)
            return
        }
        request.target.deliver(reply)
        self.runHeldCommands()
    }

    /// The blocking link dropped or never opened (its command has its error already).
    func blockingLinkClosed(_ link: NodeLink) {
        guard self.blockingLink === link else { return }
        self.blockingLink = nil
        self.runHeldCommands()
    }

    /// Runs what arrived while a blocking command was out (or a command was parked), until one of
    /// them blocks or parks again.
    func runHeldCommands() {
        while !self.holdsCommands, self.lifecycle.isOpen, let command = self.heldCommands.popFirst() {
            self.handle(command)
        }
        self.loop.flush.schedule()
    }
}

/// Links a client has to itself, and what it hears from them.
extension ClientSession: NodeLinkOwner {
    /// Opens a link to `node` for this client alone, within the client's and the proxy's caps
    /// (see ``NodeLinks/openExclusive(to:for:carriesPushes:)``).
    func openExclusiveLink(to node: NodeAddress, carriesPushes: Bool = false) -> NodeLink? {
        self.loop.links.openExclusive(to: node, for: self, carriesPushes: carriesPushes)
    }

    /// Gives back a link whose transaction or blocking command ended cleanly, for the pool.
    func releaseExclusiveLink(_ link: NodeLink) {
        self.loop.links.releaseExclusive(link, of: self, reusable: true)
    }

    package func link(_ link: NodeLink, pushed frame: FramedReply) {
        self.subscriberLink(link, pushed: frame)
    }

    package func link(_ link: NodeLink, received reply: FramedReply, for request: RoutedRequest) {
        if link === self.blockingLink {
            self.blockingLink(link, received: reply, for: request)
        } else if self.replicaWait?.holds(link) == true {
            self.waitLink(link, received: reply, for: request)
        } else {
            self.transactionLink(link, received: reply, for: request)
        }
    }

    package func linkClosed(_ link: NodeLink, connectFailed: Bool, requestsFailed: Int) {
        self.loop.links.releaseExclusive(link, of: self, reusable: false)
        self.blockingLinkClosed(link)
        self.waitLinkClosed(link)
        self.transactionLinkClosed(link)
        self.subscriberLinkClosed(link, connectFailed: connectFailed)
    }
}
