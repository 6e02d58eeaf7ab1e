//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import DequeModule
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import SlotgateCluster
import SlotgateConfiguration
import SlotgateRESP

#if canImport(Glibc)
    import Glibc
#endif

/// Routes the commands of one event loop's clients to the cluster.
///
/// Each event loop has exactly one router, and everything it owns — the current cluster view, its
/// node links, the lists of links and sessions waiting to be flushed — is touched only on that
/// loop. That is the share-nothing rule: no locks and no thread hops per command. New views
/// arrive from the topology monitor as immutable values, installed by a task on this loop.
package final class LoopRouter {
    let eventLoop: any EventLoop
    let logger: Logger
    /// Changed only by ``apply(_:)`` (a reload or `PROXY CONFIG SET`), on this loop.
    var settings: RouterSettings
    let monitor: TopologyMonitor
    /// What this loop counted (see `LoopRouter+Stats`).
    let stats = LoopStats()
    let identity: ProxyIdentity
    /// Links single clients hold to themselves, counted across all loops.
    let exclusiveLinks: ExclusiveLinkBudget
    /// Clients connected across all loops, for `maxclients`.
    private let connectedClients: BoundedCounter
    /// Failed `AUTH` attempts by address, shared by every loop.
    let authFailures: AuthFailureLimiter
    /// Scripts clients loaded, to load again on nodes that lost them.
    let scripts: ScriptCache
    /// Every loop's router, for commands about all clients.
    let directory: RouterDirectory
    /// This loop's client sessions.
    private(set) var sessions: [ObjectIdentifier: ClientSession] = [:]
    /// The connection and byte counters when `CONFIG RESETSTAT` last ran, which `INFO` counts from.
    var countersAtReset = ConnectionCounters()
    private(set) var view: ClusterView?
    /// The view's commands as the fast path looks them up; rebuilt when a view brings a new table.
    private(set) var catalog: CommandCatalog?
    private var unavailableReason = "topology discovery has not finished"
    /// The shared links, by node and protocol. Changed only through ``setLink(_:for:)``.
    private(set) var links: [LinkKey: NodeLink] = [:]
    /// The shared links to each shard's master, by shard index, for RESP2 and RESP3 clients: what
    /// the fast path looks a slot's link up in, without hashing an address.
    private var masterLinks: (resp2: [NodeLink?], resp3: [NodeLink?]) = ([], [])
    /// The view's slot map as runs of slots with one owner: the last slot of each run, in order,
    /// and the run's shard index (``SlotMap/unassigned`` for none). A few dozen entries that stay
    /// in the CPU's cache, where a lookup in a table of all 16384 slots would miss it.
    private var slotRuns: (lastSlots: [UInt16], shards: [UInt16]) = ([], [])
    /// The time at the start of the current burst of work: read once per read from a socket and
    /// used for every command in it, rather than read from the clock per command.
    private(set) var now = NIODeadline.now()

    /// A shared link is per node, per protocol and per user: RESP3 clients' commands go on links
    /// that said `HELLO 3`, so node replies never need converting, and under `acl-mode
    /// passthrough` each user's commands go on links that signed in as that user.
    package struct LinkKey: Hashable {
        var node: NodeAddress
        var resp3: Bool
        var login: NodeLogins.ID

        package init(node: NodeAddress, resp3: Bool, login: NodeLogins.ID = NodeLogins.slotgate) {
            self.node = node
            self.resp3 = resp3
            self.login = login
        }
    }
    /// The users node links sign in as (see ``NodeLogins``).
    var logins: NodeLogins
    /// The user a client's commands travel as until it signs in: Slotgate's own, or under
    /// `acl-mode passthrough` nobody (links that never say `AUTH`).
    let clientsDefaultLogin: NodeLogins.ID
    /// Nodes that refused a connection, and when to try them again.
    var reconnectBackoff: [NodeAddress: (notBefore: NIODeadline, delay: TimeAmount, reason: String)] = [:]
    /// Requests waiting for a node that cannot be reached (see `LoopRouter+Hold`).
    var held: HeldRequests
    /// Nodes that left the slot map; their links close once idle (see `LoopRouter+Hold`). Only
    /// these: a link to a node not in the map yet (reached by a MOVED before the refresh) stays.
    var departedNodes: Set<NodeAddress> = []
    /// Sessions whose command waits for a node that cannot be reached, and that node.
    var parkedSessions: [(session: ClientSession, node: NodeAddress)] = []
    private var linksAwaitingFlush: [NodeLink] = []
    private var sessionsAwaitingFlush: [ClientSession] = []
    private var flushScheduled = false
    private var nextKeylessShard = 0
    /// Housekeeping ticks so far (see `LoopRouter+Hold`).
    var ticks = 0
    /// Turn counter spreading reads over replicas (see `LoopRouter+ReadFrom`).
    var nextReadReplica = 0
    /// Decodes requests again for the slow log (see `LoopRouter+Stats`), reusing its storage.
    var rereader = RESPRequestDecoder()
    /// Exclusive links that ended cleanly, for the next transaction or blocking command.
    var linkPool = ExclusiveLinkPool()
    /// Working memory of ``split(_:wire:spec:merge:keyStep:replySlot:)``, reused for every command.
    var grouping = SlotGrouping()
    var partEnds: [Int] = []

    package init(
        eventLoop: any EventLoop,
        settings: RouterSettings,
        monitor: TopologyMonitor,
        identity: ProxyIdentity,
        exclusiveLinks: ExclusiveLinkBudget,
        connectedClients: BoundedCounter,
        authFailures: AuthFailureLimiter,
        scripts: ScriptCache,
        directory: RouterDirectory,
        logger: Logger
    ) {
        self.eventLoop = eventLoop
        self.settings = settings
        self.monitor = monitor
        self.identity = identity
        self.exclusiveLinks = exclusiveLinks
        self.connectedClients = connectedClients
        self.authFailures = authFailures
        self.scripts = scripts
        self.directory = directory
        self.logger = logger
        self.held = HeldRequests(byteBudget: settings.holdByteBudget)
        self.logins = NodeLogins(slotgateAuth: settings.nodeAuthCommand)
        self.clientsDefaultLogin = settings.authenticator.checkedByCluster ? self.logins.id(signingInWith: nil) : NodeLogins.slotgate
    }

    /// Takes a new view (or news that there is none yet) from the topology monitor.
    package func install(_ update: TopologyUpdate) {
        switch update {
        case .available(let view):
            if let previous = self.view {
                self.departedNodes.formUnion(Set(previous.slotMap.allNodes).subtracting(view.slotMap.allNodes))
            }
            self.departedNodes.subtract(view.slotMap.allNodes)
            self.view = view
            if self.catalog?.generation != view.commands.generation {
                let catalog = CommandCatalog(view.commands)
                self.catalog = catalog
                self.stats.useCatalog(catalog)
            }
            self.indexMasterLinks()
            self.releaseHeldRequests()
            self.retryParkedSessions(everyone: true)
            self.scheduleFlush()
        case .unavailable(let reason):
            self.unavailableReason = reason
        }
    }

    var authenticator: ClientAuthenticator { self.settings.authenticator }

    /// Whether clients that never signed in may run commands: under `acl-mode passthrough`, when
    /// the nodes' default user needs no password.
    var admitsAnonymousClients: Bool {
        self.settings.authenticator.checkedByCluster && self.view?.admitsAnonymousClients == true
    }

    /// Whether node links say `READONLY`, so that replicas serve the reads sent to them.
    var linksReadFromReplicas: Bool { self.settings.readPolicy != .master }

    /// MOVED/ASK redirects and resends one command may take (see ``RouterSettings/maxRedirects``).
    var maxRedirects: Int { self.settings.maxRedirects }

    /// Something suggests the slot map is stale (a MOVED seen elsewhere): refresh it soon.
    func topologyChanged() {
        self.monitor.requestRefresh()
    }

    /// The cluster's Redis version, as `HELLO` reports it.
    var serverVersion: String {
        self.view?.serverVersion ?? "unknown"
    }

    /// What the router makes of a client's command: its spec and the slot of its keys, or the
    /// error to answer. Looked up once per command; ``dispatch(_:spec:keys:replySlot:)`` and the
    /// session's own handling (transactions, blocking commands) work from the result.
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
    func master(for slot: HashSlot?) -> NodeAddress? {
        guard let view = self.view else { return nil }
        if let slot {
            return view.slotMap.master(for: slot)
        }
        let shards = view.slotMap.shards
        self.nextKeylessShard = (self.nextKeylessShard + 1) % shards.count
        return shards[self.nextKeylessShard].master
    }

    // MARK: - Routing

    /// Decides where a client's command goes and sends it, or answers it with an error.
    /// `spec` and `keys` are what ``resolve(_:)`` found for the command.
    func dispatch(_ command: RESPCommand, spec: CommandSpec, keys: KeySlots, replySlot: ReplySlot) {
        guard let view = self.view else {
            replySlot.fillError(ProxyErrors.noSlotMap(self.unavailableReason))
            return
        }
        switch CommandRole.of(spec.name) {
        case nil where spec.needsKeyLookup:
            self.lookUpKeys(of: command, replySlot: replySlot)
        case nil:
            // The common case: every key in one slot, sent to that slot's master as the client sent it.
            if let key = keys.firstKey {
                self.sampleHotKey { key }
            }
            self.route(command, keys: keys, readOnly: spec.isReadOnly, replySlot: replySlot)
        case .split(let merge, let keyStep):
            replySlot.commandClass = .split
            self.split(command, wire: command.wire, spec: spec, merge: merge, keyStep: keyStep, replySlot: replySlot)
        case .broadcast(let merge):
            replySlot.commandClass = .broadcast
            self.broadcast(command.wire, merge: merge, replySlot: replySlot, view: view)
        case .scan:
            replySlot.commandClass = .broadcast
            self.scan(command, replySlot: replySlot, view: view)
        case .info:
            replySlot.commandClass = .broadcast
            self.info(command, replySlot: replySlot, view: view)
        case .configSet:
            replySlot.commandClass = .broadcast
            self.configSet(command, replySlot: replySlot, view: view)
        case .resetStatistics:
            replySlot.commandClass = .broadcast
            _ = self.directory.gather(on: self.eventLoop) { $0.resetClientCounters() }
            self.send(command.wire, to: view.slotMap.allNodes, merge: .allOK, replySlot: replySlot)
        case .scriptRun:
            self.scripts.rememberEvaluated(command.arguments[1])
            self.route(command, keys: keys, readOnly: spec.isReadOnly, replySlot: replySlot)
        case .scriptExists:
            replySlot.commandClass = .broadcast
            let shas = command.arguments.dropFirst(2).map { String(buffer: $0) }
            self.broadcast(command.wire, merge: .scriptExists(shas: shas, cache: self.scripts), replySlot: replySlot, view: view)
        case .scriptFlush:
            replySlot.commandClass = .broadcast
            self.scripts.forgetAll()
            self.broadcast(command.wire, merge: .allOK, replySlot: replySlot, view: view)
        case .publish:
            guard let node = self.pubSubNode else {
                replySlot.fillError(ProxyErrors.slotNotServed)
                return
            }
            self.send(RoutedRequest(wire: command.wire, slot: nil, target: .client(replySlot)), to: node)
        case .killScript:
            replySlot.commandClass = .broadcast
            self.killScript(command, replySlot: replySlot, view: view)
        case .scriptLoad:
            replySlot.commandClass = .broadcast
            self.broadcast(command.wire, merge: .scriptLoaded(body: command.arguments[2], cache: self.scripts), replySlot: replySlot, view: view)
        case .clusterFacade:
            replySlot.commandClass = .local
            if let reply = ClusterFacade.answer(
                command,
                subcommand: spec.name,
                address: self.identity.announcedAddress,
                resp3: replySlot.usesRESP3
            ) {
                replySlot.fill(reply)
            }
        case .routedBySlotArgument:
            guard let number = command.arguments[2].redisInteger else {
                replySlot.fillError(ProxyErrors.notAnInteger)
                return
            }
            guard let slot = HashSlot(rawValue: number) else {
                replySlot.fillError(spec.name == "cluster|getkeysinslot" ? ProxyErrors.invalidSlotOrCount : ProxyErrors.invalidSlot)
                return
            }
            self.route(RoutedRequest(wire: command.wire, slot: slot, target: .client(replySlot)))
        case .refused(let reason):
            replySlot.fillError(ProxyErrors.refused(spec.name.split(separator: "|").joined(separator: " ").uppercased(), reason))
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
        self.scheduleFlush()
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
        let readsElsewhere = request.isReadOnly && request.slot != nil && self.settings.readPolicy != .master
        guard let target = readsElsewhere ? request.slot.flatMap(self.readNode(for:)) : self.master(for: request.slot) else {
            request.target.deliverError(ProxyErrors.slotNotServed)
            return
        }
        self.send(request, to: target)
    }

    func send(_ request: RoutedRequest, to node: NodeAddress) {
        let key = LinkKey(node: node, resp3: request.resp3, login: request.login)
        if let link = self.links[key] {
            let limit = self.settings.maxInFlightPerNode
            guard limit == 0 || link.inFlightCount < limit else {
                request.target.deliverError(ProxyErrors.tooManyInFlight(node, limit))
                return
            }
            link.send(request)
            return
        }
        if self.held.isHolding(for: node) || self.isBackingOff(from: node) {
            self.hold(request, for: node)
            return
        }
        let link = self.openLink(to: node, owner: self, resp3: request.resp3, login: request.login)
        self.setLink(link, for: key)
        link.send(request)
    }

    /// Puts or removes the shared link for `key`, keeping the fast path's index of it.
    package func setLink(_ link: NodeLink?, for key: LinkKey) {
        self.links[key] = link
        self.indexMasterLinks()
    }

    /// Rebuilds the fast path's index of shared links by shard, after the links or the map changed.
    private func indexMasterLinks() {
        let runs = self.view?.slotMap.slotRanges ?? []
        self.slotRuns = (runs.map { UInt16($0.slots.upperBound) }, runs.map { $0.shard.map(UInt16.init) ?? SlotMap.unassigned })
        let masters = self.view?.slotMap.shards.map(\.master) ?? []
        self.masterLinks = (
            masters.map { self.links[LinkKey(node: $0, resp3: false)] },
            masters.map { self.links[LinkKey(node: $0, resp3: true)] }
        )
    }

    /// The shared link the fast path may send a command for `slot` on: open, to the slot's master,
    /// in the client's protocol, not over the in-flight cap, and only when reads need no replica
    /// choice. `nil` sends the command the slow way, which handles every other case.
    func fastLink(for slot: HashSlot, resp3: Bool, readOnly: Bool) -> NodeLink? {
        guard !readOnly || self.settings.readPolicy == .master else { return nil }
        let shard = self.shardIndex(of: slot)
        let links = resp3 ? self.masterLinks.resp3 : self.masterLinks.resp2
        guard shard < links.count, let link = links[shard] else { return nil }
        let limit = self.settings.maxInFlightPerNode
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

    /// Reads the clock for the burst of work that starts now (see ``now``).
    func noteTime() {
        self.now = .now()
    }

    /// Counts a keyed command's first key for the hot key table, one command in a few.
    func sampleHotKey(_ key: () -> ByteBuffer) {
        self.stats.hotKeys.saw(String(decoding: key().readableBytesView.prefix(128), as: UTF8.self), keeping: self.settings.hotKeys)
    }

    /// Whether `node` refused its last connection and none has succeeded since.
    func isKnownDown(_ node: NodeAddress) -> Bool {
        self.reconnectBackoff[node] != nil
    }

    /// Whether `node` refused a connection recently and is not to be tried again yet.
    func isBackingOff(from node: NodeAddress) -> Bool {
        guard let backoff = self.reconnectBackoff[node] else { return false }
        return backoff.notBefore > .now()
    }

    /// TCP keepalive on node links: a peer that vanished without a word (a host gone, a cable
    /// pulled) is noticed after 30 s of silence plus 3 unanswered probes 10 s apart.
    private static let keepaliveIdle = ChannelOptions.Types.SocketOption(
        level: .init(rawValue: Int32(IPPROTO_TCP)),
        name: .init(rawValue: TCP_KEEPIDLE)
    )
    private static let keepaliveInterval = ChannelOptions.Types.SocketOption(
        level: .init(rawValue: Int32(IPPROTO_TCP)),
        name: .init(rawValue: TCP_KEEPINTVL)
    )
    private static let keepaliveProbes = ChannelOptions.Types.SocketOption(
        level: .init(rawValue: Int32(IPPROTO_TCP)),
        name: .init(rawValue: TCP_KEEPCNT)
    )

    /// Opens a link to `node` that reports to `owner` and signs in as `login`; requests may be
    /// sent on it at once.
    func openLink(to node: NodeAddress, owner: any NodeLinkOwner, carriesPushes: Bool = false, resp3: Bool, login: NodeLogins.ID) -> NodeLink {
        let link = NodeLink(address: node, router: self, owner: owner, carriesPushes: carriesPushes, resp3: resp3, login: login)
        let loopBound = NIOLoopBound((link, self), eventLoop: self.eventLoop)
        let tls = self.monitor.nodeTLS
        ClientBootstrap(group: self.eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(Self.keepaliveIdle, value: 30)
            .channelOption(Self.keepaliveInterval, value: 10)
            .channelOption(Self.keepaliveProbes, value: 3)
            .connectTimeout(self.settings.connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let (link, router) = loopBound.value
                    if let tls {
                        // Writes made before the handshake ends wait in the TLS handler.
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: nil))
                    }
                    try channel.pipeline.syncOperations.addHandler(NodeLinkHandler(link: link, router: router))
                }
            }
            .connect(host: node.host, port: node.port)
            .whenFailure { error in
                let (link, router) = loopBound.value
                link.connectFailed(error)
                router.scheduleFlush()
            }
        self.logger.debug("connecting to node", metadata: ["upstream.node": "\(node)"])
        return link
    }

    // MARK: - Replies

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
        if request.attempts < self.settings.maxRedirects {
            var retry = request
            retry.attempts += 1
            if let redirect = Redirect(reply: reply) {
                self.follow(redirect, retry)
                return
            }
            if reply.isError(startingWith: "NOSCRIPT"), !request.reloadedScript,
                let reload = self.scripts.reloadCommand(for: request.wire)
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
        retry.holdDeadline = request.holdDeadline ?? now + self.failoverHold
        guard retry.holdDeadline! > now else {
            request.target.deliver(reply)
            return
        }
        self.hold(retry, for: node)
    }

    private func follow(_ redirect: Redirect, _ request: RoutedRequest) {
        self.stats.count(redirect.kind == .moved ? .moved : .ask)
        switch redirect.kind {
        case .moved:
            self.monitor.requestRefresh()
            self.send(request, to: redirect.target)
        case .ask:
            // ASKING and the command, back to back on the same link; the map stays as it is.
            let asking = RoutedRequest(wire: ProxyReplies.askingCommand, slot: nil, target: .discard, resp3: request.resp3, login: request.login)
            self.send(asking, to: redirect.target)
            self.send(request, to: redirect.target)
        }
    }

    // MARK: - Link lifecycle

    /// A link closed or never opened: forget it, and ask for a refresh since a node may be gone.
    package func linkClosed(_ link: NodeLink, connectFailed: Bool, requestsFailed: Int) {
        let key = LinkKey(node: link.address, resp3: link.resp3, login: link.login)
        if self.links[key] === link {
            self.setLink(nil, for: key)
        }
        if link.isPooled {
            self.linkPool.remove(link)
        }
        guard !link.closedOnPurpose else { return }
        if !connectFailed {
            self.logger.warning("node link lost", metadata: ["upstream.node": "\(link.address)", "requests.failed": "\(requestsFailed)"])
        }
        self.monitor.requestRefresh()
    }

    /// Requests a shared link gives back unanswered because sending them again is safe: routed
    /// afresh, they wait for the node (or its successor) if it is still unreachable.
    package func link(_ link: NodeLink, returned requests: Deque<RoutedRequest>, reason: String) {
        for request in requests where request.target.isAwaited {
            self.resend(request, lastSentTo: link.address)
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

    /// Any link to `node` failed to connect: wait before trying it again, a little longer each
    /// time, with jitter so that every loop does not knock at once. Logged once per outage.
    func nodeRefusedConnection(_ node: NodeAddress, error: any Error) {
        let previous = self.reconnectBackoff[node]?.delay
        let delay = previous.map { min($0 * 2, self.settings.maxReconnectDelay) } ?? self.settings.reconnectDelay
        let jittered = TimeAmount.nanoseconds(Int64(Double(delay.nanoseconds) * Double.random(in: 0.75...1.25)))
        let reason = ProxyErrors.connectFailureReason(error)
        self.reconnectBackoff[node] = (.now() + jittered, delay, reason)
        self.stats.count(.connectFailed)
        if previous == nil {
            // The other loops learn it too, so their first command for the node waits instead of
            // failing on a connection of its own.
            let delay = self.settings.reconnectDelay
            self.directory.tellOthers(than: self.eventLoop) { $0.peerFoundNodeDown(node, reason: reason, retryAfter: delay) }
            self.logger.warning(
                "cannot connect to node; its requests wait for it or its successor",
                metadata: ["upstream.node": "\(node)", "error": "\(reason)", "failover_hold.ms": "\(self.failoverHold.nanoseconds / 1_000_000)"]
            )
        }
        self.monitor.requestRefresh()
    }

    /// Another loop could not connect to `node`: treat it as down here too, unless this loop
    /// knows better already.
    func peerFoundNodeDown(_ node: NodeAddress, reason: String, retryAfter delay: TimeAmount) {
        guard self.reconnectBackoff[node] == nil else { return }
        self.reconnectBackoff[node] = (.now() + delay, delay, reason)
    }

    /// A link to `node` connected: the node is reachable again.
    func nodeConnected(_ node: NodeAddress) {
        guard self.reconnectBackoff.removeValue(forKey: node) != nil else { return }
        self.logger.info("node reachable again", metadata: ["upstream.node": "\(node)"])
    }

    // MARK: - Clients

    /// Counts a new client in, unless `maxclients` are connected already.
    func admitClient() -> Bool {
        guard self.connectedClients.acquire(limit: self.settings.maxClients) else {
            self.stats.clientsRejected += 1
            return false
        }
        return true
    }

    /// An admitted client left.
    func releaseClient() {
        self.connectedClients.release()
    }

    func sessionOpened(_ session: ClientSession) {
        self.sessions[ObjectIdentifier(session)] = session
        self.stats.clientsConnected += 1
        self.stats.clientsAccepted += 1
    }

    func sessionClosed(_ session: ClientSession) {
        if self.sessions.removeValue(forKey: ObjectIdentifier(session)) != nil {
            self.stats.clientsConnected -= 1
        }
    }

    /// `CLIENT INFO` lines of this loop's clients.
    func clientLines() -> [String] {
        self.sessions.values.map(\.infoLine)
    }

    /// Shutting down: every client stops being read and is closed once its replies are out.
    /// Returns how many clients are still owed replies.
    func drainClients() -> Int {
        for session in self.sessions.values { session.drain() }
        return self.sessions.values.count { !$0.line.isEmpty }
    }

    /// Shutting down, after the clients: closes every node link on purpose; nobody waits for
    /// what is still in flight.
    func closeLinks() {
        for link in self.links.values { link.abandon() }
        for link in self.linkPool.removeAll() { link.close() }
    }

    /// Keeps an exclusive link that ended cleanly for the next client, or closes it.
    func recycle(_ link: NodeLink) {
        if !self.linkPool.put(link) {
            link.close()
        }
    }

    /// `CLIENT UNBLOCK`: has the node that holds the blocked command of this loop's client `id`
    /// unblock it (`mode` `TIMEOUT` or `ERROR`); the node's answer to that command then reaches
    /// the client as usual. 1 when the client waits in a blocking command here, else 0.
    func unblockClient(id: Int, mode: String) -> Int {
        guard let session = self.sessions.values.first(where: { $0.clientID == id }), let link = session.blockingLink,
            let nodeID = link.nodeClientID
        else { return 0 }
        var wire = ByteBuffer()
        wire.writeRESPCommand(["CLIENT", "UNBLOCK", String(nodeID), mode])
        self.send(RoutedRequest(wire: wire, slot: nil, target: .discard), to: link.address)
        self.scheduleFlush()
        return 1
    }

    /// Closes this loop's clients that `filter` names; returns how many.
    func killClients(_ filter: ClientFilter) -> Int {
        let doomed = self.sessions.values.filter { filter.matches(id: $0.clientID, address: $0.remoteAddress) }
        for session in doomed { session.close() }
        return doomed.count
    }

    // MARK: - Flushing

    func linkAwaitsFlush(_ link: NodeLink) {
        self.linksAwaitingFlush.append(link)
    }

    func sessionAwaitsFlush(_ session: ClientSession) {
        self.sessionsAwaitingFlush.append(session)
    }

    /// Arranges for ``flushPending()`` to run once the event loop has handled every channel that is
    /// ready now. NIO runs queued tasks after its batch of I/O events, so requests that many clients
    /// send in one loop turn leave for a node in one `writev`, and the node reads them in one go.
    func scheduleFlush() {
        guard !self.flushScheduled else { return }
        self.flushScheduled = true
        let loopBound = NIOLoopBound(self, eventLoop: self.eventLoop)
        self.eventLoop.execute { loopBound.value.flushPending() }
    }

    /// Flushes every link and session written to since the last flush: one syscall each per turn.
    private func flushPending() {
        self.flushScheduled = false
        var index = 0
        while index < self.linksAwaitingFlush.count {
            self.linksAwaitingFlush[index].flush()
            index += 1
        }
        self.linksAwaitingFlush.removeAll(keepingCapacity: true)
        index = 0
        while index < self.sessionsAwaitingFlush.count {
            self.sessionsAwaitingFlush[index].flush()
            index += 1
        }
        self.sessionsAwaitingFlush.removeAll(keepingCapacity: true)
    }
}

extension LoopRouter: NodeLinkOwner {}

@available(*, unavailable)
extension LoopRouter: Sendable {}
