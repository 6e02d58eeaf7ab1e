//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateConfiguration
import SlotgateRESP

/// Transactions: `WATCH`, `MULTI`, the queued commands, `EXEC`/`DISCARD`/`UNWATCH`, all on one
/// node link the client has to itself, so they run on the node exactly as the client sent them.
/// ``TransactionStateMachine`` decides what each step means; this is where it is carried out.
extension ClientSession {
    /// The commands that start, end or shape a transaction.
    static let transactionCommands: Set<String> = ["multi", "exec", "discard", "watch", "unwatch"]

    /// Commands that sign a connection in, refused inside `MULTI` (Redis would queue them).
    static let signInCommands: Set<String> = ["auth", "hello"]

    /// Handles a command the planner gave the transaction: `WATCH`, `MULTI`, `EXEC`, `DISCARD`,
    /// `UNWATCH`, or any command inside `MULTI`.
    func handleTransactional(_ command: RESPCommand, name: String, replySlot: ReplySlot) {
        switch name {
        case "watch":
            guard !self.transaction.inMulti else {
                replySlot.fillError(ProxyErrors.watchInsideMulti)
                return
            }
            self.queue(command, replySlot: replySlot)
        case "multi":
            switch self.transaction.multi(perSlot: self.loop.settings.crossSlotTransactions == .perSlot) {
            case .refuse(let message):
                replySlot.fillError(message)
            case .answerOK:
                replySlot.fill(ProxyReplies.ok)
            case .send(let link, let slot):
                link.send(RoutedRequest(wire: command.wire, slot: slot, target: .client(replySlot)))
            }
        case "exec", "discard":
            self.finish(command, isExec: name == "exec", replySlot: replySlot)
        case "unwatch" where !self.transaction.inMulti:
            switch self.transaction.unwatch() {
            case .answerOK:
                replySlot.fill(ProxyReplies.ok)
            case .send(let link, let slot):
                link.send(RoutedRequest(wire: command.wire, slot: slot, target: .client(replySlot)))
            }
        default:
            self.queue(command, replySlot: replySlot)
        }
    }

    /// Sends a command of the transaction (or a `WATCH`) to its node, opening the link on the
    /// first key.
    private func queue(_ command: RESPCommand, replySlot: ReplySlot) {
        if let reason = self.transaction.brokenReason {
            replySlot.fillError(reason)
            return
        }
        if self.transaction.inMulti && Self.signInCommands.contains(command.lowercasedName) {
            // Queued on the node, a sign-in would change the user of a link Slotgate pools by user.
            self.refuseQueued(replySlot, ProxyErrors.notAllowedInTransaction)
            return
        }
        let slot: HashSlot?
        switch self.router.resolve(command) {
        case .rejected(let message):
            self.refuseQueued(replySlot, message)
            return
        case .command(let spec, let keys):
            if self.queueBySlot(command, spec: spec, keys: keys, replySlot: replySlot) { return }
            guard !keys.spansSlots, self.transaction.accepts(slot: keys.slot) else {
                self.refuseQueued(replySlot, self.crossSlotRefusal(spec: spec, keys: keys, inMulti: self.transaction.inMulti))
                return
            }
            slot = keys.slot
        }
        while true {
            switch self.transaction.queueOnNode(command, slot: slot) {
            case .answerQueued:
                replySlot.fill(ProxyReplies.queued)
                return
            case .openLink(let slot):
                guard self.openLink(for: slot, failing: replySlot) else { return }
            case .send:
                self.sendOnTransactionLink(RoutedRequest(wire: command.wire, slot: self.transaction.slot, target: .client(replySlot)))
                return
            }
        }
    }

    /// A queued command (or `WATCH`) is refused with `message`; inside `MULTI` that aborts `EXEC`.
    func refuseQueued(_ replySlot: ReplySlot, _ message: String) {
        replySlot.fillError(message)
        self.transaction.refuse()
    }

    /// Sends `request` on the transaction's link, remembered while the transaction may move.
    func sendOnTransactionLink(_ request: RoutedRequest) {
        self.transaction.send(request).send(request)
    }

    /// `EXEC` or `DISCARD`: runs or drops the transaction on its node; the reply ends it.
    private func finish(_ command: RESPCommand, isExec: Bool, replySlot: ReplySlot) {
        switch self.transaction.finish(isExec: isExec) {
        case .refuse(let message):
            replySlot.fillError(message)
        case .answer(let answer):
            switch answer {
            case .execAbort(let reason): replySlot.fillError(ProxyErrors.execAbort(reason))
            case .error(let message): replySlot.fillError(message)
            case .execAbortAfterErrors: replySlot.fillError(ProxyErrors.execAbortAfterErrors)
            case .emptyArray: replySlot.fill(ProxyReplies.emptyArray)
            case .ok: replySlot.fill(ProxyReplies.ok)
            }
        case .abortOnNode(let slot):
            replySlot.fillError(ProxyErrors.execAbortAfterErrors)
            // Commands queued before the refused one may still be on their way: the node drops its
            // half of the transaction, watches included, at `DISCARD`, after answering them.
            self.sendOnTransactionLink(RoutedRequest(wire: ProxyReplies.discardCommand, slot: slot, target: .discard))
        case .execBySlot(let queue):
            self.execBySlot(command, queue: queue, replySlot: replySlot)
        case .openLinkForKeylessCommands:
            // Only keyless commands were queued: any master can run them.
            guard self.openLink(for: nil, failing: replySlot) else { return }
            self.finish(command, isExec: isExec, replySlot: replySlot)
        case .send(let slot):
            self.sendOnTransactionLink(RoutedRequest(wire: command.wire, slot: slot, target: .client(replySlot)))
        }
    }

    /// Opens the transaction's link to the master of `slot` (any master for `nil`) and sends what
    /// waited for it: the `MULTI` Slotgate answered, then the commands queued before. `false` when
    /// it could not (the reply slot has the error), or the command was parked until the master
    /// can be reached.
    func openLink(for slot: HashSlot?, failing replySlot: ReplySlot) -> Bool {
        guard let master = self.router.master(for: slot) else {
            self.refuseQueued(replySlot, ProxyErrors.slotNotServed)
            return false
        }
        if self.parkIfUnreachable(master) { return false }
        guard let link = self.openExclusiveLink(to: master) else {
            self.refuseQueued(replySlot, ProxyErrors.exclusiveLinksExhausted(self.loop.shared.exclusiveLinks))
            return false
        }
        for request in self.transaction.linkOpened(link, slot: slot) {
            link.send(request)
        }
        return true
    }

    /// A reply on one of the client's own links that is not a blocking command's. A redirect
    /// means the slot moved since the transaction began. Inside `MULTI` nothing has run yet, so
    /// the whole transaction moves to the node the redirect names. A transaction that began with
    /// `WATCH` cannot move: the redirect is reported and `EXEC` aborts. Replies on a per-slot
    /// transaction's other links go to their slot group (their target).
    func transactionLink(_ link: NodeLink, received reply: FramedReply, for request: RoutedRequest) {
        let redirect = Redirect(reply: reply)
        let action = self.transaction.replied(
            on: link,
            redirect: redirect,
            isError: reply.kind == .error,
            maxRedirects: self.loop.settings.maxRedirects
        )
        switch action {
        case .notTheTransactionLink:
            request.target.deliver(reply)
        case .move(let move):
            self.move(move)
        case .deliver:
            // The machine holds the new state before the reply is delivered: a per-slot `EXEC`'s
            // reply may start, or end, the other slot groups.
            request.target.deliver(reply)
            self.endTransactionIfDone()
        case .deliverMoved:
            request.target.deliverError(ProxyErrors.movedDuringTransaction(reply.lineText))
            self.endTransactionIfDone()
        }
    }

    /// Sends the transaction again, from `MULTI`, to the node the redirect names, on a new link;
    /// requests already answered are sent again with their replies dropped.
    private func move(_ move: TransactionStateMachine<NodeLink>.Move) {
        move.abandon.abandon()
        guard let link = self.openExclusiveLink(to: move.redirect.target) else {
            let reason = ProxyErrors.exclusiveLinksExhausted(self.loop.shared.exclusiveLinks)
            for request in self.transaction.moveFailed(move, reason: reason) {
                request.target.deliverError(reason)
            }
            if self.transaction.isIdle {
                self.runHeldCommands()
            }
            return
        }
        self.router.topologyChanged()
        for request in self.transaction.moved(move, to: link) {
            link.send(request)
        }
    }

    /// The transaction's link dropped or never opened: the node has forgotten the transaction.
    func transactionLinkClosed(_ link: NodeLink) {
        if case .checkEnd = self.transaction.linkClosed(link, reason: ProxyErrors.transactionLinkLost(link.address)) {
            self.endTransactionIfDone()
        }
    }

    /// Ends the transaction once its `EXEC`, `DISCARD` or `UNWATCH` is answered: by its link, and,
    /// for a per-slot transaction, by every slot group. Nothing is left queued or watched on its
    /// link, so the link goes back to the pool, and the commands the client sent behind the end run.
    func endTransactionIfDone() {
        guard let ended = self.transaction.endIfDone(linkBusy: self.transaction.link?.hasRequestsInFlight ?? false) else { return }
        if let link = ended {
            self.releaseExclusiveLink(link)
        }
        self.runHeldCommands()
    }
}
