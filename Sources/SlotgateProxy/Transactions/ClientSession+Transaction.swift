//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateConfiguration
import SlotgateRESP

extension TransactionState {
    /// The commands that start, end or shape a transaction.
    static let commands: Set<String> = ["multi", "exec", "discard", "watch", "unwatch"]
}

extension ClientSession {
    /// Commands that sign a connection in, refused inside `MULTI` (Redis would queue them).
    static let signInCommands: Set<String> = ["auth", "hello"]
}

/// Transactions: `WATCH`, `MULTI`, the queued commands, `EXEC`/`DISCARD`/`UNWATCH`, all on one
/// node link the client has to itself, so they run on the node exactly as the client sent them.
extension ClientSession {
    /// Handles `command` as part of a transaction; `false` when it is an ordinary command after all
    /// (no transaction, or `WATCH` without `MULTI` yet, where commands run at once as in Redis).
    func handleTransactional(_ command: RESPCommand, name: String, replySlot: ReplySlot) -> Bool {
        var state = self.transaction ?? TransactionState()
        let handled = self.handleTransactional(command, name: name, replySlot: replySlot, state: &state)
        self.transaction = state.isOver ? nil : state
        if name == "exec", let exec = state.crossSlotExec {
            // Only now that the session holds the state may a group's outcome end the transaction.
            exec.begin()
        }
        return handled
    }

    private func handleTransactional(_ command: RESPCommand, name: String, replySlot: ReplySlot, state: inout TransactionState) -> Bool {
        switch name {
        case "watch":
            guard !state.inMulti else {
                replySlot.fillError(ProxyErrors.watchInsideMulti)
                return true
            }
            self.queue(command, replySlot: replySlot, in: &state)
        case "multi":
            guard !state.inMulti else {
                replySlot.fillError(ProxyErrors.nestedMulti)
                return true
            }
            state.inMulti = true
            if self.loop.settings.crossSlotTransactions == .perSlot {
                state.perSlot = PerSlotQueue()
            }
            if let link = state.link {
                link.send(RoutedRequest(wire: command.wire, slot: state.slot, target: .client(replySlot)))
            } else {
                state.multiPending = true
                replySlot.fill(ProxyReplies.ok)
            }
        case "exec", "discard":
            guard state.inMulti else {
                replySlot.fillError(name == "exec" ? ProxyErrors.execWithoutMulti : ProxyErrors.discardWithoutMulti)
                return true
            }
            self.finish(command, name: name, replySlot: replySlot, state: &state)
        case "unwatch" where !state.inMulti:
            if let link = state.link, state.broken == nil {
                state.ending = true
                link.send(RoutedRequest(wire: command.wire, slot: state.slot, target: .client(replySlot)))
            } else {
                replySlot.fill(ProxyReplies.ok)
                state.close()
            }
        case "reset", "quit":
            state.close()
            return false
        default:
            guard state.inMulti else { return false }
            self.queue(command, replySlot: replySlot, in: &state)
        }
        return true
    }

    /// The node answered the `EXEC`, `DISCARD` or `UNWATCH` that ended the transaction, so
    /// nothing is left queued or watched on its link: the link goes back to the router's pool,
    /// and the commands the client sent behind the end run.
    private func endTransaction() {
        let link = self.transaction?.link
        self.transaction = nil
        if let link {
            self.releaseExclusiveLink(link)
        }
        self.runHeldCommands()
    }

    /// Ends the transaction once its `EXEC`, `DISCARD` or `UNWATCH` is answered: by its link, and,
    /// for a per-slot transaction, by every slot group.
    func endTransactionIfDone() {
        guard let state = self.transaction, state.ending, state.crossSlotExec?.isFinished ?? true,
            !(state.link?.hasRequestsInFlight ?? false)
        else { return }
        self.endTransaction()
    }

    /// Sends a command of the transaction to its node, opening the link on the first key.
    private func queue(_ command: RESPCommand, replySlot: ReplySlot, in state: inout TransactionState) {
        if let reason = state.broken {
            replySlot.fillError(reason)
            return
        }
        if state.inMulti && Self.signInCommands.contains(command.lowercasedName) {
            // Queued on the node, a sign-in would change the user of a link Slotgate pools by user.
            replySlot.fillError(ProxyErrors.notAllowedInTransaction)
            state.aborted = true
            return
        }
        let slot: HashSlot?
        switch self.router.resolve(command) {
        case .rejected(let message):
            replySlot.fillError(message)
            state.aborted = state.aborted || state.inMulti
            return
        case .command(let spec, let keys):
            if self.queueBySlot(command, spec: spec, keys: keys, replySlot: replySlot, state: &state) { return }
            guard !keys.spansSlots, keys.slot == nil || state.slot == nil || keys.slot == state.slot else {
                replySlot.fillError(self.crossSlotRefusal(spec: spec, keys: keys, inMulti: state.inMulti))
                state.aborted = state.aborted || state.inMulti
                return
            }
            slot = keys.slot
        }
        if state.inMulti {
            state.queuedCount += 1
            state.perSlot?.queueOnLink()
        } else {
            state.watching = true
        }
        if state.link == nil {
            guard let slot else {
                // No key yet says which node: answer for the node as it would (the command is
                // valid, so it queues), and send it behind MULTI once a key (or EXEC) picks the node.
                state.deferred.append(command)
                replySlot.fill(ProxyReplies.queued)
                return
            }
            guard self.openLink(for: slot, in: &state, failing: replySlot) else { return }
        }
        state.send(RoutedRequest(wire: command.wire, slot: state.slot, target: .client(replySlot)))
    }

    /// `EXEC` or `DISCARD`: runs or drops the transaction on its node; the reply ends it.
    private func finish(_ command: RESPCommand, name: String, replySlot: ReplySlot, state: inout TransactionState) {
        if let reason = state.broken {
            replySlot.fillError(name == "exec" ? ProxyErrors.execAbort(reason) : reason)
            state.close()
            return
        }
        if name == "exec" && state.aborted {
            replySlot.fillError(ProxyErrors.execAbortAfterErrors)
            guard state.link != nil else {
                state.close()
                return
            }
            // Commands queued before the refused one may still be on their way: the node drops its
            // half of the transaction, watches included, at `DISCARD`, after answering them.
            state.ending = true
            state.send(RoutedRequest(wire: ProxyReplies.discardCommand, slot: state.slot, target: .discard))
            return
        }
        if name == "exec", let queue = state.perSlot, queue.hasOtherSlots {
            self.execBySlot(command, queue: queue, replySlot: replySlot, state: &state)
            return
        }
        if state.link == nil && !state.deferred.isEmpty {
            // Only keyless commands were queued: any master can run them.
            guard self.openLink(for: nil, in: &state, failing: replySlot) else { return }
        }
        guard state.link != nil else {
            // Nothing reached a node: an empty transaction.
            replySlot.fill(name == "exec" ? ProxyReplies.emptyArray : ProxyReplies.ok)
            state.close()
            return
        }
        state.ending = true
        state.send(RoutedRequest(wire: command.wire, slot: state.slot, target: .client(replySlot)))
    }

    /// Opens the transaction's link to the master of `slot` (any master for `nil`) and sends what
    /// waited for it: the `MULTI` Slotgate answered, then the commands queued before. `false` when
    /// it could not (the reply slot has the error), or the command was parked until the master
    /// can be reached.
    func openLink(for slot: HashSlot?, in state: inout TransactionState, failing replySlot: ReplySlot) -> Bool {
        guard let master = self.router.master(for: slot) else {
            replySlot.fillError(ProxyErrors.slotNotServed)
            state.aborted = state.aborted || state.inMulti
            return false
        }
        if self.parkIfUnreachable(master) { return false }
        guard let link = self.openExclusiveLink(to: master) else {
            replySlot.fillError(ProxyErrors.exclusiveLinksExhausted(self.loop.shared.exclusiveLinks))
            state.aborted = state.aborted || state.inMulti
            return false
        }
        state.link = link
        state.slot = slot
        if state.multiPending {
            state.multiPending = false
            state.replayable = []
            state.send(RoutedRequest(wire: ProxyReplies.multiCommand, slot: slot, target: .discard))
        }
        for command in state.deferred {
            state.send(RoutedRequest(wire: command.wire, slot: slot, target: .discard))
        }
        state.deferred.removeAll()
        return true
    }

    /// A reply on the transaction's link. A redirect means the slot moved since the transaction
    /// began. Inside `MULTI` nothing has run yet, so the whole transaction moves to the node the
    /// redirect names (see ``TransactionState/replayable``). A transaction that began with `WATCH`
    /// cannot move: the redirect is reported and the node itself aborts it at `EXEC`.
    /// Replies on a per-slot transaction's other links go to their slot group (their target).
    func transactionLink(_ link: NodeLink, received reply: FramedReply, for request: RoutedRequest) {
        guard var state = self.transaction, state.link === link else {
            request.target.deliver(reply)
            return
        }
        let redirect = Redirect(reply: reply)
        if let redirect, state.replayable != nil, state.moves < self.loop.settings.maxRedirects {
            self.move(&state, to: redirect)
            self.transaction = state
            return
        }
        state.repliesSeen += 1
        if state.perSlot != nil && state.inMulti && !state.ending && reply.kind == .error {
            // The node refused a queued command: as in Redis, `EXEC` aborts, in every slot.
            state.aborted = true
        }
        state.aborted = state.aborted || redirect != nil
        // The session holds the state before the reply is delivered: a per-slot `EXEC`'s reply
        // may start, or end, the other slot groups.
        self.transaction = state
        if redirect != nil {
            request.target.deliverError(ProxyErrors.movedDuringTransaction(reply.lineText))
        } else {
            request.target.deliver(reply)
        }
        self.endTransactionIfDone()
    }

    /// Sends the transaction again, from `MULTI`, to the node `redirect` names, on a new link;
    /// requests already answered are sent again with their replies dropped. After an `ASK`, the
    /// `ASKING` before `MULTI` lets the importing node take the whole transaction.
    private func move(_ state: inout TransactionState, to redirect: Redirect) {
        let requests = state.replayable ?? []
        let answered = state.repliesSeen
        let abandoned = state.link
        state.link = nil
        self.transaction?.link = nil
        abandoned?.abandon()
        guard let link = self.openExclusiveLink(to: redirect.target) else {
            state.broken = ProxyErrors.exclusiveLinksExhausted(self.loop.shared.exclusiveLinks)
            for request in requests.dropFirst(answered) { request.target.deliverError(state.broken!) }
            return
        }
        self.router.topologyChanged()
        state.link = link
        state.moves += 1
        state.repliesSeen = 0
        state.replayable = []
        if redirect.kind == .ask {
            state.send(RoutedRequest(wire: ProxyReplies.askingCommand, slot: nil, target: .discard))
        }
        for (index, request) in requests.enumerated() {
            var again = request
            if index < answered { again.target = .discard }
            state.send(again)
        }
    }

    /// The transaction's link dropped or never opened: the node has forgotten the transaction.
    func transactionLinkClosed(_ link: NodeLink) {
        guard self.transaction?.link === link else { return }
        self.transaction?.link = nil
        if self.transaction?.ending == true {
            self.endTransactionIfDone()
        } else {
            self.transaction?.broken = ProxyErrors.transactionLinkLost(link.address)
        }
    }
}

extension TransactionState {
    /// Whether nothing is left of the transaction.
    var isOver: Bool {
        !self.inMulti && self.link == nil && self.broken == nil && self.deferred.isEmpty
    }

    /// Drops the transaction and closes its link.
    mutating func close() {
        let link = self.link
        self = TransactionState()
        link?.close()
    }
}
