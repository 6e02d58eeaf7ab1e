//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import DequeModule
import Logging
import NIOCore
import SlotgateCluster
import SlotgateConfiguration
import SlotgateRESP

/// Where one event loop's commands go: the current cluster view, the slot of a command's keys,
/// the node that serves it, and what a node's redirect or retry-later reply means.
///
/// Each event loop has exactly one router (in its ``ProxyLoop``), touched only on that loop. New
/// views arrive from the topology monitor as immutable values. The router sends on the links
/// ``NodeLinks`` keeps and holds requests in the ``FailoverHold`` while their node cannot be
/// reached; it owns the shared links' replies (see ``NodeLinkOwner``).
package final class LoopRouter {
    unowned(unsafe) let loop: ProxyLoop
    /// The loop's node links, which routing asks for a link on every request, and its counters,
    /// which sample hot keys on every keyed one. Held strongly, as `let`s, because neither refers
    /// back to the router: a read of them then costs no reference count, as a read through `loop`
    /// or an unowned reference would around every call.
    let links: NodeLinks
    let stats: LoopStats
    package private(set) var view: ClusterView?
    /// The view's commands as the fast path looks them up; rebuilt when a view brings a new table.
    private(set) var catalog: CommandCatalog?
    private var unavailableReason = "topology discovery has not finished"
    /// The planner for the current view and settings, made again when either changes rather than
    /// for every command (each of its parts would cost a reference count).
    private var planner: CommandPlanner
    /// The view's slot map as runs of slots with one owner: the last slot of each run, in order,
    /// and the run's shard index (``SlotMap/unassigned`` for none). A few dozen entries that stay
    /// in the CPU's cache, where a lookup in a table of all 16384 slots would miss it.
    private var slotRuns: (lastSlots: [UInt16], shards: [UInt16]) = ([], [])
    private var nextKeylessShard = 0
    /// Turn counter spreading reads over replicas (see `LoopRouter+ReadFrom`).
    var nextReadReplica = 0

    init(loop: ProxyLoop, links: NodeLinks) {
        self.loop = loop
        self.links = links
        self.stats = loop.stats
        self.planner = Self.planner(view: nil, unavailableReason: self.unavailableReason, loop: loop)
    }

    /// Takes a new view from the topology monitor.
    func install(_ view: ClusterView) {
        self.view = view
        if self.catalog?.generation != view.commands.generation {
            let catalog = CommandCatalog(view.commands)
            self.catalog = catalog
            self.stats.useCatalog(catalog)
        }
        let runs = view.slotMap.slotRanges
        self.slotRuns = (runs.map { UInt16($0.slots.upperBound) }, runs.map { $0.shard.map(UInt16.init) ?? SlotMap.unassigned })
        self.remakePlanner()
    }

    /// The monitor has no view yet; `reason` is what clients are told.
    func noView(_ reason: String) {
        self.unavailableReason = reason
        self.remakePlanner()
    }

    /// The view, the reason there is none, or the loop's settings changed: plans follow them from
    /// now on.
    func remakePlanner() {
        self.planner = Self.planner(view: self.view, unavailableReason: self.unavailableReason, loop: self.loop)
    }

    private static func planner(view: ClusterView?, unavailableReason: String, loop: ProxyLoop) -> CommandPlanner {
        CommandPlanner(
            view: view,
            unavailableReason: unavailableReason,
            authenticator: loop.settings.authenticator,
            configSetBroadcast: loop.settings.configSetBroadcast,
            identity: loop.shared.identity
        )
    }

    /// Whether clients that never signed in may run commands: under `acl-mode passthrough`, when
    /// the nodes' default user needs no password.
    var admitsAnonymousClients: Bool {
        self.loop.settings.authenticator.checkedByCluster && self.view?.admitsAnonymousClients == true
    }

    /// Something suggests the slot map is stale (a MOVED seen elsewhere): refresh it soon.
    func topologyChanged() {
        self.loop.monitor.requestRefresh()
    }

    /// The cluster's Redis version, as `HELLO` reports it.
    var serverVersion: String {
        self.view?.serverVersion ?? "unknown"
    }

    /// What the router makes of a client's command: its spec and the slot of its keys, or the
    /// error to answer.
    enum Resolution {
        case command(CommandSpec, KeySlots)
        case rejected(String)
    }

    func resolve(_ command: RESPCommand) -> Resolution {
        guard let view = self.view else { return .rejected(ProxyErrors.noSlotMap(self.unavailableReason)) }
        switch view.commands.lookup(command.arguments) {
        case .rejected(let message):
            return .rejected(message)
        case .found(let spec):
            var keys = KeySlots()
            CommandTable.visitKeyIndexes(of: spec, in: command.arguments) { keys.add(command.arguments[$0]) }
            return .command(spec, keys)
        }
    }

    /// The master that carries every classic subscription (`SUBSCRIBE`, `PSUBSCRIBE`) made
    /// through Slotgate, and every `PUBLISH` sent through it: a node counts only its own
    /// subscribers in `PUBLISH`'s reply, though every node delivers the message, so this way the
    /// reply counts every client subscribed through Slotgate. The master of slot 0, or the next
    /// master in turn while slot 0 has none.
    var pubSubNode: NodeAddress? {
        self.master(for: HashSlot(rawValue: 0)) ?? self.master(for: nil)
    }

    /// The master of `slot`, or of the next shard in turn for a command without keys; `nil` while
    /// the slot has no owner or no map exists.
    /// It reads the slot map through `view` in place (no copy of the view, whose references each
    /// cost a retain): the slow log asks for every command it keeps.
    func master(for slot: HashSlot?) -> NodeAddress? {
        if let slot {
            return self.view?.slotMap.master(for: slot)
        }
        guard let shards = self.view?.slotMap.shards else { return nil }
        self.nextKeylessShard = (self.nextKeylessShard + 1) % shards.count
        return shards[self.nextKeylessShard].master
    }

    // MARK: - Routing

    /// The way a client's command takes (see ``CommandPlanner``), from what the client is in the
    /// middle of and what this loop knows of the cluster.
    func plan(_ command: RESPCommand, name: String, session: CommandPlanner.SessionFacts) -> CommandPlan {
        self.planner.plan(command, name: name, session: session, nodes: self)
    }

    /// Carries out a plan the cluster answers: sends the command where it goes, or answers it with
    /// an error when the cluster has changed since it was planned.
    func carryOut(_ plan: ClusterPlan, _ command: RESPCommand, replySlot: ReplySlot) {
        guard let view = self.view else {
            replySlot.fillError(ProxyErrors.noSlotMap(self.unavailableReason))
            return
        }
        let cluster = self.loop.clusterCommands!
        let scripts = self.loop.shared.scripts
        switch plan {
        case .route(let slot, let readOnly, let hotKey, let script):
            if let hotKey {
                self.sampleHotKey { hotKey }
            }
            if let script {
                scripts.rememberEvaluated(script)
            }
            var request = RoutedRequest(wire: command.wire, slot: slot, target: .client(replySlot))
            request.isReadOnly = readOnly
            self.route(request)
        case .lookUpKeys:
            self.lookUpKeys(of: command, replySlot: replySlot)
        case .split(let spec, let merge, let keyStep):
            cluster.split(command, wire: command.wire, spec: spec, merge: merge, keyStep: keyStep, replySlot: replySlot)
        case .broadcast(let merge):
            cluster.broadcast(command.wire, merge: merge, replySlot: replySlot, view: view)
        case .scriptLoad(let body):
            cluster.broadcast(command.wire, merge: .scriptLoaded(body: body, cache: scripts), replySlot: replySlot, view: view)
        case .scriptExists(let shas):
            cluster.broadcast(command.wire, merge: .scriptExists(shas: shas, cache: scripts), replySlot: replySlot, view: view)
        case .scriptFlush:
            scripts.forgetAll()
            cluster.broadcast(command.wire, merge: .allOK, replySlot: replySlot, view: view)
        case .scan:
            cluster.scan(command, replySlot: replySlot, view: view)
        case .info:
            cluster.info(command, replySlot: replySlot, view: view)
        case .configSet(let parameters):
            cluster.configSet(command.wire, parameters: parameters, replySlot: replySlot, view: view)
        case .resetStatistics:
            cluster.resetStatistics(command.wire, replySlot: replySlot, view: view)
        case .killScript:
            cluster.killScript(command, replySlot: replySlot, view: view)
        case .publish:
            guard let node = self.pubSubNode else {
                replySlot.fillError(ProxyErrors.slotNotServed)
                return
            }
            self.send(RoutedRequest(wire: command.wire, slot: nil, target: .client(replySlot)), to: node)
        }
    }

    private func route(_ command: RESPCommand, keys: KeySlots, readOnly: Bool, replySlot: ReplySlot) {
        guard !keys.spansSlots else {
            replySlot.fillError(ProxyErrors.crossSlot)
            return
        }
        var request = RoutedRequest(wire: command.wire, slot: keys.slot, target: .client(replySlot))
        request.isReadOnly = readOnly
        self.route(request)
    }

    /// Asks a master which arguments are keys (see ``PendingKeyLookup``).
    private func lookUpKeys(of command: RESPCommand, replySlot: ReplySlot) {
        var wire = ByteBuffer()
        wire.writeRESPCommand([ByteBuffer(string: "COMMAND"), ByteBuffer(string: "GETKEYS")] + command.arguments)
        let lookup = PendingKeyLookup(command: command, replySlot: replySlot, router: self)
        self.route(RoutedRequest(wire: wire, slot: nil, target: .keyLookup(lookup)))
    }

    /// The cluster named the keys of a held-back command: route it by them. If it could not (the
    /// command's arguments are wrong), the command goes to any master, which gives the client the
    /// real error, or a MOVED the router follows.
    func keysFound(_ reply: FramedReply, for lookup: PendingKeyLookup) {
        var keys = KeySlots()
        for element in RESPReplyScanner.elements(ofArray: reply.bytes) ?? [] {
            if let key = RESPReplyScanner.bulkPayload(element) { keys.add(key) }
        }
        self.route(lookup.command, keys: keys, readOnly: false, replySlot: lookup.replySlot)
        self.loop.flush.schedule()
    }

    /// Sends a request to the master of its slot (any master for a command without keys).
    func route(_ request: RoutedRequest) {
        if let slot = request.slot, request.login == NodeLogins.slotgate,
            let link = self.fastLink(for: slot, resp3: request.resp3, readOnly: request.isReadOnly)
        {
            link.send(request)
            return
        }
        guard self.view != nil else {
            request.target.deliverError(ProxyErrors.noSlotMap(self.unavailableReason))
            return
        }
        let readsElsewhere = request.isReadOnly && request.slot != nil && self.loop.settings.readPolicy != .master
        guard let target = readsElsewhere ? request.slot.flatMap(self.readNode(for:)) : self.master(for: request.slot) else {
            request.target.deliverError(ProxyErrors.slotNotServed)
            return
        }
        self.send(request, to: target)
    }

    /// Sends a request to `node` on the shared link for its protocol and user, opening the link if
    /// need be; the request waits in the failover hold while the node cannot be reached.
    func send(_ request: RoutedRequest, to node: NodeAddress) {
        let key = NodeLinks.Key(node: node, resp3: request.resp3, login: request.login)
        if let link = self.links.shared(for: key) {
            let limit = self.loop.settings.maxInFlightPerNode
            guard limit == 0 || link.inFlightCount < limit else {
                request.target.deliverError(ProxyErrors.tooManyInFlight(node, limit))
                return
            }
            link.send(request)
            return
        }
        if self.loop.hold.isHolding(for: node) || self.links.isBackingOff(from: node) {
            self.loop.hold.hold(request, for: node)
            return
        }
        self.links.openShared(key).send(request)
    }

    /// The shared link the fast path may send a command for `slot` on: open, to the slot's master,
    /// in the client's protocol, not over the in-flight cap, and only when reads need no replica
    /// choice. `nil` sends the command the slow way, which handles every other case.
    /// The settings are read, field by field, before anything is called: a copy of them, or a read
    /// across a call, would cost a reference count per field that has one, on every request.
    func fastLink(for slot: HashSlot, resp3: Bool, readOnly: Bool) -> NodeLink? {
        if readOnly && self.loop.settings.readPolicy != .master { return nil }
        let limit = self.loop.settings.maxInFlightPerNode
        guard let link = self.links.masterLink(shard: self.shardIndex(of: slot), resp3: resp3) else { return nil }
        guard limit == 0 || link.inFlightCount < limit else { return nil }
        return link
    }

    /// The index of `slot`'s shard, by binary search over ``slotRuns``; out of range when no node
    /// serves it.
    private func shardIndex(of slot: HashSlot) -> Int {
        let lastSlots = self.slotRuns.lastSlots
        var low = 0
        var high = lastSlots.count
        while low < high {
            let middle = (low &+ high) &>> 1
            if lastSlots[middle] < slot.rawValue {
                low = middle &+ 1
            } else {
                high = middle
            }
        }
        return low < lastSlots.count ? Int(self.slotRuns.shards[low]) : Int.max
    }

    /// Counts a keyed command's first key for the hot key table, one command in a few.
    func sampleHotKey(_ key: () -> ByteBuffer) {
        self.stats.hotKeys.saw(String(decoding: key().readableBytesView.prefix(128), as: UTF8.self), keeping: self.loop.settings.hotKeys)
    }

    // MARK: - Replies on shared links

    /// A node answered `request` on a shared link. Redirects and retry-later errors are handled
    /// here, because they mean the command did not run; every other reply goes on as it is.
    package func link(_ link: NodeLink, received reply: FramedReply, for request: RoutedRequest) {
        guard request.target.isAwaited else { return }
        guard reply.kind == .error else {
            request.target.deliver(reply)
            return
        }
        if reply.isError(startingWith: "TRYAGAIN") || reply.isError(startingWith: "CLUSTERDOWN") {
            self.retryLater(request, failing: reply, from: link.address)
            return
        }
        if request.attempts < self.loop.settings.maxRedirects {
            var retry = request
            retry.attempts += 1
            if let redirect = Redirect(reply: reply) {
                self.follow(redirect, retry)
                return
            }
            if reply.isError(startingWith: "NOSCRIPT"), !request.reloadedScript,
                let reload = self.loop.shared.scripts.reloadCommand(for: request.wire)
            {
                // Load the script on this node, then run the EVALSHA again, back to back.
                retry.reloadedScript = true
                link.send(RoutedRequest(wire: reload, slot: request.slot, target: .discard, resp3: request.resp3))
                link.send(retry)
                return
            }
        }
        request.target.deliver(reply)
    }

    /// `TRYAGAIN` (keys mid-migration) or `CLUSTERDOWN` (the cluster lost a master and has not
    /// recovered yet): the command did not run. It waits with the held requests, so the client's
    /// later commands for that node stay behind it, and is routed again under the newest map on
    /// the next tick, for as long as the failover hold lasts; then the node's reply goes back.
    /// These retries do not count against `max-redirects`.
    private func retryLater(_ request: RoutedRequest, failing reply: FramedReply, from node: NodeAddress) {
        self.stats.count(reply.isError(startingWith: "TRYAGAIN") ? .tryagain : .clusterdown)
        let now = NIODeadline.now()
        var retry = request
        retry.holdDeadline = request.holdDeadline ?? now + self.loop.hold.duration
        guard retry.holdDeadline! > now else {
            request.target.deliver(reply)
            return
        }
        self.loop.hold.hold(retry, for: node)
    }

    private func follow(_ redirect: Redirect, _ request: RoutedRequest) {
        self.stats.count(redirect.kind == .moved ? .moved : .ask)
        switch redirect.kind {
        case .moved:
            self.loop.monitor.requestRefresh()
            self.send(request, to: redirect.target)
        case .ask:
            // ASKING and the command, back to back on the same link; the map stays as it is.
            let asking = RoutedRequest(wire: ProxyReplies.askingCommand, slot: nil, target: .discard, resp3: request.resp3, login: request.login)
            self.send(asking, to: redirect.target)
            self.send(request, to: redirect.target)
        }
    }

    /// Sends a request that did not run again: by its slot under the newest map, or, without a
    /// slot (a part of a command sent to every master), to the same node.
    func resend(_ request: RoutedRequest, lastSentTo node: NodeAddress) {
        if request.slot == nil {
            self.send(request, to: node)
        } else {
            self.route(request)
        }
    }
}

extension LoopRouter: PlanningNodes {
    func isKnownDown(_ node: NodeAddress) -> Bool {
        self.links.isKnownDown(node)
    }

    var holdDuration: TimeAmount {
        self.loop.hold.duration
    }
}

extension LoopRouter: NodeLinkOwner {
    /// A shared or pooled link closed or never opened (``NodeLinks`` has forgotten it): a node may
    /// be gone, so the topology is asked about, unless Slotgate closed the link itself.
    package func linkClosed(_ link: NodeLink, connectFailed: Bool, requestsFailed: Int) {
        guard !link.closedOnPurpose else { return }
        if !connectFailed {
            self.loop.logger.warning("node link lost", metadata: ["upstream.node": "\(link.address)", "requests.failed": "\(requestsFailed)"])
        }
        self.loop.monitor.requestRefresh()
    }

    /// Requests a shared link gives back unanswered because sending them again is safe: routed
    /// afresh, they wait for the node (or its successor) if it is still unreachable.
    package func link(_ link: NodeLink, returned requests: Deque<RoutedRequest>, reason: String) {
        for request in requests where request.target.isAwaited {
            self.resend(request, lastSentTo: link.address)
        }
    }
}

@available(*, unavailable)
extension LoopRouter: Sendable {}
