//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateRESP

/// Where a client is in a transaction, from its first `WATCH` or `MULTI` to the reply that ends
/// it, as decisions without I/O: `ClientSession+Transaction` resolves commands, opens links and
/// sends, and asks this machine what each step means.
///
/// ```
/// idle ──WATCH──▶ watching ──MULTI──▶ queuing ──EXEC/DISCARD──▶ ending ──last reply──▶ idle
///   └──MULTI──────────────────────────▲   └──UNWATCH (watching)──▲
/// watching, queuing ──link lost──▶ broken ──EXEC/DISCARD/UNWATCH/RESET──▶ idle
/// ```
///
/// A transaction runs on one node, on a link the client has to itself, chosen by the slot of the
/// first key it names. Until a key names the node, Slotgate answers `MULTI` and the keyless
/// commands after it itself; they wait in the queue and go behind `MULTI` once the link exists.
/// A transaction that began with `MULTI` may still move as a whole when its node answers a
/// redirect: nothing has run yet, so everything sent since `MULTI` goes again to the named node.
/// Generic over the link so that tests need no channel.
struct TransactionStateMachine<Link: AnyObject> {
    enum State {
        case idle
        /// `WATCH` ran on the client's link; no `MULTI` yet. `aborted` when a `WATCH` was redirected:
        /// its keys are not watched, so `EXEC` will abort.
        case watching(Node, aborted: Bool)
        case queuing(Queue)
        case ending(Ending)
        case broken(Broken)
    }

    private(set) var state = State.idle

    // MARK: - Queries

    var isIdle: Bool {
        if case .idle = self.state { return true }
        return false
    }

    /// Between `MULTI` and the end of `EXEC`/`DISCARD`.
    var inMulti: Bool { self.queuedCount != nil }

    /// Whether the end was sent and its reply is awaited (see `ClientSession.holdsCommands`).
    var isEnding: Bool {
        if case .ending = self.state { return true }
        return false
    }

    /// The commands queued since `MULTI`; `nil` outside `MULTI`.
    var queuedCount: Int? {
        switch self.state {
        case .queuing(let queue): return queue.queued
        case .ending(let ending): return ending.queued
        case .broken(let broken): return broken.queued
        case .idle, .watching: return nil
        }
    }

    private var node: Node? { self.readNode { $0 } }

    /// The client's own link to the transaction's node, once open.
    var link: Link? { self.readNode { $0.link } }

    /// The slot every key must be in, once a key named it.
    var slot: HashSlot? { self.readNode { $0.slot } }

    /// `read` of the transaction's node, `nil` when it has none; reads one field without copying
    /// the node (its requests) out of the state.
    private func readNode<Value>(_ read: (Node) -> Value?) -> Value? {
        switch self.state {
        case .watching(let node, _): return read(node)
        case .queuing(let queue): return queue.node.flatMap(read)
        case .ending(let ending): return ending.node.flatMap(read)
        case .idle, .broken: return nil
        }
    }

    /// The per-slot `EXEC` in progress.
    var crossSlotExec: CrossSlotExec? {
        if case .ending(let ending) = self.state { return ending.exec }
        return nil
    }

    /// Why the transaction can no longer run.
    var brokenReason: String? {
        if case .broken(let broken) = self.state { return broken.reason }
        return nil
    }

    // MARK: - MULTI

    enum MultiAction {
        case refuse(String)
        /// Slotgate answers `+OK`; `MULTI` goes to the node once a key names it.
        case answerOK
        /// `MULTI` goes on the link that holds the watch; the node answers it.
        case send(Link, HashSlot?)
    }

    mutating func multi(perSlot: Bool) -> MultiAction {
        let queue = perSlot ? PerSlotQueue() : nil
        switch self.state {
        case .idle:
            self.state = .queuing(Queue(watched: false, perSlot: queue))
            return .answerOK
        case .watching(let node, let aborted):
            self.state = .queuing(Queue(node: node, aborted: aborted, watched: true, perSlot: queue))
            return .send(node.link, node.slot)
        case .broken(var broken):
            guard broken.queued == nil else { return .refuse(ProxyErrors.nestedMulti) }
            broken.queued = 0
            self.state = .broken(broken)
            return .answerOK
        case .queuing:
            return .refuse(ProxyErrors.nestedMulti)
        case .ending:
            preconditionFailure("Invalid state: a command reached a transaction that is ending")
        }
    }

    // MARK: - Queued commands and WATCH

    /// A queued command (or `WATCH`) was refused: inside `MULTI`, as in Redis, `EXEC` will abort.
    mutating func refuse() {
        if case .queuing(var queue) = self.state {
            queue.aborted = true
            self.state = .queuing(queue)
        }
    }

    /// Changes the queue between `MULTI` and `EXEC`; the per-slot events (`+PerSlot`) go through it.
    mutating func changeQueue<Result>(_ change: (inout Queue) -> Result) -> Result {
        guard case .queuing = self.state, case .queuing(var queue) = self.takeState() else {
            preconditionFailure("Invalid state: queued outside MULTI (\(self.state))")
        }
        let result = change(&queue)
        self.state = .queuing(queue)
        return result
    }

    /// Whether keys in `slot` may join the transaction: its node has not been picked, or serves
    /// that slot.
    func accepts(slot: HashSlot?) -> Bool {
        guard let slot, let nodeSlot = self.node?.slot else { return true }
        return slot == nodeSlot
    }

    enum QueueStep {
        /// Send the command on the link (``send(_:)`` records it).
        case send
        /// No node yet and no key to name one: Slotgate answers `+QUEUED` for the node, and the
        /// command goes behind `MULTI` once a key (or `EXEC`) picks the node.
        case answerQueued
        /// Open the link to the master of the slot (any master for `nil`), then ask again.
        case openLink(HashSlot?)
    }

    /// A command (a queued one, or `WATCH`) whose keys are in `slot` goes to the node.
    mutating func queueOnNode(_ command: RESPCommand, slot: HashSlot?) -> QueueStep {
        switch self.state {
        case .idle:
            return .openLink(slot)
        case .watching:
            return .send
        case .queuing:
            guard case .queuing(var queue) = self.takeState() else { preconditionFailure("unreachable") }
            defer { self.state = .queuing(queue) }
            guard queue.node != nil else {
                guard slot != nil else {
                    queue.deferred.append(command)
                    queue.queued += 1
                    queue.perSlot?.queueOnLink()
                    return .answerQueued
                }
                return .openLink(slot)
            }
            queue.queued += 1
            queue.perSlot?.queueOnLink()
            return .send
        case .ending, .broken:
            preconditionFailure("Invalid state: queued a command while \(self.state)")
        }
    }

    /// The link to the master of `slot` is open: the transaction's node is known. Returns what
    /// waited for it (the `MULTI` Slotgate answered, then the keyless commands), to send first.
    mutating func linkOpened(_ link: Link, slot: HashSlot?) -> [RoutedRequest] {
        switch self.state {
        case .idle:
            self.state = .watching(Node(link: link, slot: slot), aborted: false)
            return []
        case .queuing(var queue) where queue.node == nil:
            var waiting = [RoutedRequest(wire: ProxyReplies.multiCommand, slot: slot, target: .discard)]
            waiting += queue.deferred.map { RoutedRequest(wire: $0.wire, slot: slot, target: .discard) }
            queue.deferred.removeAll()
            queue.node = Node(link: link, slot: slot, replayable: waiting)
            self.state = .queuing(queue)
            return waiting
        default:
            preconditionFailure("Invalid state: a transaction link opened while \(self.state)")
        }
    }

    /// `request` goes on the transaction's link: remembered while the transaction may move.
    /// Returns the link to send it on.
    mutating func send(_ request: RoutedRequest) -> Link {
        let link = self.changeNode { node in
            node.replayable?.append(request)
            return node.link
        }
        guard let link else { preconditionFailure("Invalid state: sent with no link while \(self.state)") }
        return link
    }

    // MARK: - EXEC, DISCARD, UNWATCH, RESET

    enum FinishAction {
        /// Without `MULTI`: an error; nothing changes.
        case refuse(String)
        /// The transaction is over; Slotgate answers (`EXECABORT`, the break's reason, an empty
        /// transaction's reply).
        case answer(Answer)
        /// `EXEC` after a refused command: `EXECABORT` for the client, and the node drops its half
        /// of the transaction at a `DISCARD` (``send(_:)``), after answering what was queued.
        case abortOnNode(HashSlot?)
        /// Commands for other slots wait in Slotgate: run each slot's share (``endBySlot(_:)``).
        case execBySlot(PerSlotQueue)
        /// Only keyless commands were queued and no node picked: open a link to any master, then
        /// ask again.
        case openLinkForKeylessCommands
        /// Send the `EXEC` or `DISCARD` on the link (``send(_:)``); its reply ends the transaction.
        case send(HashSlot?)
    }

    enum Answer {
        case execAbort(String)
        case error(String)
        case execAbortAfterErrors
        case emptyArray
        case ok
    }

    /// `EXEC` (`isExec`) or `DISCARD`.
    mutating func finish(isExec: Bool) -> FinishAction {
        switch self.state {
        case .broken(let broken) where broken.queued != nil:
            self.state = .idle
            return .answer(isExec ? .execAbort(broken.reason) : .error(broken.reason))
        case .queuing(let queue):
            if isExec && queue.aborted {
                guard let node = queue.node else {
                    self.state = .idle
                    return .answer(.execAbortAfterErrors)
                }
                self.state = .ending(Ending(node: node, queued: queue.queued))
                return .abortOnNode(node.slot)
            }
            if isExec, let perSlot = queue.perSlot, perSlot.hasOtherSlots {
                return .execBySlot(perSlot)
            }
            guard let node = queue.node else {
                if !queue.deferred.isEmpty { return .openLinkForKeylessCommands }
                // Nothing reached a node: an empty transaction.
                self.state = .idle
                return .answer(isExec ? .emptyArray : .ok)
            }
            self.state = .ending(Ending(node: node, queued: queue.queued))
            return .send(node.slot)
        case .idle, .watching, .broken:
            return .refuse(isExec ? ProxyErrors.execWithoutMulti : ProxyErrors.discardWithoutMulti)
        case .ending:
            preconditionFailure("Invalid state: a command reached a transaction that is ending")
        }
    }

    /// A per-slot `EXEC` starts: the transaction ends once `exec` and the link (if any) are done.
    /// Returns the link and slot that carry group 0's `EXEC`.
    mutating func endBySlot(_ exec: CrossSlotExec) -> (Link, HashSlot?)? {
        guard case .queuing(let queue) = self.state else { preconditionFailure("Invalid state: a per-slot EXEC outside MULTI") }
        self.state = .ending(Ending(node: queue.node, exec: exec, queued: queue.queued))
        return queue.node.map { ($0.link, $0.slot) }
    }

    enum UnwatchAction {
        /// Nothing is watched on a node: Slotgate answers `+OK`; the transaction is over.
        case answerOK
        /// `UNWATCH` goes on the link; its reply ends the transaction.
        case send(Link, HashSlot?)
    }

    /// `UNWATCH` outside `MULTI`.
    mutating func unwatch() -> UnwatchAction {
        switch self.state {
        case .watching(let node, _):
            self.state = .ending(Ending(node: node))
            return .send(node.link, node.slot)
        case .idle, .broken:
            self.state = .idle
            return .answerOK
        case .queuing, .ending:
            preconditionFailure("Invalid state: UNWATCH handled while \(self.state)")
        }
    }

    /// `RESET` or `QUIT`: the transaction is dropped; returns its link, to close.
    mutating func reset() -> Link? {
        let link = self.link
        self.state = .idle
        return link
    }

    // MARK: - The link

    enum ReplyAction {
        /// Not the transaction's link (a per-slot group's): the reply goes to its target as is.
        case notTheTransactionLink
        /// The slot moved before anything ran: abandon `abandon` and send everything again to the
        /// redirect's node (``moved(_:to:)``, or ``moveFailed(_:reason:)``).
        case move(Move)
        /// The reply goes to its target; the end may have come (``endIfDone(linkBusy:)``).
        case deliver
        /// A redirect the transaction cannot follow: the client is told its slot moved, and
        /// `EXEC` aborts.
        case deliverMoved
    }

    /// A transaction on its way to another node.
    struct Move {
        let redirect: Redirect
        let abandon: Link
        fileprivate let requests: [RoutedRequest]
        fileprivate let answered: Int
        fileprivate let node: Node
    }

    /// A reply on `link`. `redirect` is the redirect it carries, if any.
    mutating func replied(on link: Link, redirect: Redirect?, isError: Bool, maxRedirects: Int) -> ReplyAction {
        guard self.link === link else { return .notTheTransactionLink }
        if let redirect, let node = self.node, let requests = node.replayable, node.moves < maxRedirects {
            let move = Move(redirect: redirect, abandon: link, requests: requests, answered: node.repliesSeen, node: node)
            self.setNode(nil)
            return .move(move)
        }
        self.changeNode { $0.repliesSeen += 1 }
        switch self.state {
        case .queuing(var queue) where (queue.perSlot != nil && isError) || redirect != nil:
            // Under per-slot, a command the node refused aborts `EXEC` in every slot, as in Redis.
            queue.aborted = true
            self.state = .queuing(queue)
        case .watching(let node, _) where redirect != nil:
            self.state = .watching(node, aborted: true)
        default:
            break
        }
        return redirect != nil ? .deliverMoved : .deliver
    }

    /// Changes the transaction's node in place, `nil` when it has none. The state is emptied while
    /// `change` runs, so that the node's requests have one owner and grow without being copied
    /// (a request is added for every command of a transaction).
    @discardableResult
    private mutating func changeNode<Result>(_ change: (inout Node) -> Result) -> Result? {
        switch self.takeState() {
        case .watching(var node, let aborted):
            defer { self.state = .watching(node, aborted: aborted) }
            return change(&node)
        case .queuing(var queue):
            defer { self.state = .queuing(queue) }
            guard var node = queue.node.take() else { return nil }
            defer { queue.node = node }
            return change(&node)
        case .ending(var ending):
            defer { self.state = .ending(ending) }
            guard var node = ending.node.take() else { return nil }
            defer { ending.node = node }
            return change(&node)
        case let other:
            self.state = other
            return nil
        }
    }

    /// The state, moved out (``State/idle`` is left behind): its parts then have one owner and
    /// change without being copied. Every caller puts a state back.
    private mutating func takeState() -> State {
        var taken = State.idle
        swap(&taken, &self.state)
        return taken
    }

    private mutating func setNode(_ node: Node?) {
        switch self.state {
        case .watching(_, let aborted):
            if let node { self.state = .watching(node, aborted: aborted) }
        case .queuing(var queue):
            queue.node = node
            self.state = .queuing(queue)
        case .ending(var ending):
            ending.node = node
            self.state = .ending(ending)
        case .idle, .broken:
            break
        }
    }

    /// The transaction's new link to the redirect's node is open: returns everything to send on
    /// it again, from `MULTI` (after `ASKING` for an `ASK`); requests already answered go with
    /// their replies dropped.
    mutating func moved(_ move: Move, to link: Link) -> [RoutedRequest] {
        var requests: [RoutedRequest] = []
        if move.redirect.kind == .ask {
            requests.append(RoutedRequest(wire: ProxyReplies.askingCommand, slot: nil, target: .discard))
        }
        for (index, request) in move.requests.enumerated() {
            var again = request
            if index < move.answered { again.target = .discard }
            requests.append(again)
        }
        self.setNode(Node(link: link, slot: move.node.slot, replayable: requests, moves: move.node.moves + 1))
        return requests
    }

    /// No link to the redirect's node could be had: the transaction breaks (or, if it was ending,
    /// is over). Returns the requests still unanswered, to fail with `reason`.
    mutating func moveFailed(_ move: Move, reason: String) -> [RoutedRequest] {
        switch self.state {
        case .queuing(let queue):
            self.state = .broken(Broken(reason: reason, queued: queue.queued))
        default:
            self.state = .idle
        }
        return Array(move.requests.dropFirst(move.answered))
    }

    enum LinkClosedAction {
        case none
        /// The end's link is gone: the transaction may be over (``endIfDone(linkBusy:)``).
        case checkEnd
    }

    /// `link` dropped or never opened: if it is the transaction's, the node has forgotten the
    /// transaction, which breaks with `reason` unless it was ending anyway.
    mutating func linkClosed(_ link: Link, reason: String) -> LinkClosedAction {
        guard self.node?.link === link else { return .none }
        switch self.state {
        case .ending(var ending):
            ending.node = nil
            self.state = .ending(ending)
            return .checkEnd
        case .queuing(let queue):
            self.state = .broken(Broken(reason: reason, queued: queue.queued))
        default:
            self.state = .broken(Broken(reason: reason, queued: nil))
        }
        return .none
    }

    /// The transaction ends once its end was sent, every slot group is done and its link has
    /// nothing in flight (`linkBusy`). Returns the link to give back (`nil` when none), or `nil`
    /// when it is not over.
    mutating func endIfDone(linkBusy: Bool) -> Link?? {
        guard case .ending(let ending) = self.state, ending.exec?.isFinished ?? true, !linkBusy else { return nil }
        self.state = .idle
        return .some(ending.node?.link)
    }
}
