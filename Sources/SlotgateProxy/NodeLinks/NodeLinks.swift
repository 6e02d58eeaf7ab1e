//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Logging
import NIOCore
import NIOPosix
import NIOSSL
import SlotgateCluster

#if canImport(Glibc)
    import Glibc
#endif

/// One event loop's connections to the cluster's nodes: the shared links by node, protocol and
/// user; the exclusive links clients hold to themselves and the pool they go back to; which
/// nodes refused a connection and when to try them again; and how a link is opened.
///
/// Routing asks it for links and never opens a socket itself; a ``NodeLink`` reports its
/// connection and its end here, so the registry never holds a closed link.
package final class NodeLinks {
    /// A shared link is per node, per protocol and per user: RESP3 clients' commands go on links
    /// that said `HELLO 3`, so node replies never need converting, and under `acl-mode
    /// passthrough` each user's commands go on links that signed in as that user.
    package struct Key: Hashable {
        var node: NodeAddress
        var resp3: Bool
        var login: NodeLogins.ID

        package init(node: NodeAddress, resp3: Bool, login: NodeLogins.ID = NodeLogins.slotgate) {
            self.node = node
            self.resp3 = resp3
            self.login = login
        }
    }

    /// A node that refused a connection: when to try it again, the last wait, and why.
    struct Backoff {
        var notBefore: NIODeadline
        var delay: TimeAmount
        var reason: String
    }

    private unowned(unsafe) let loop: ProxyLoop
    /// The shared links. Changed only through ``setShared(_:for:)``.
    private(set) var shared: [Key: NodeLink] = [:]
    /// The shared links to each shard's master, by shard index, for RESP2 and RESP3 clients: what
    /// the fast path looks a slot's link up in, without hashing an address.
    private var masterLinks: (resp2: [NodeLink?], resp3: [NodeLink?]) = ([], [])
    /// The masters of the view, by shard index, that ``masterLinks`` follows.
    private var masters: [NodeAddress] = []
    /// Nodes that refused a connection, and when to try them again.
    private(set) var backoff: [NodeAddress: Backoff] = [:]
    /// Nodes that left the slot map; their links close once idle. Only these: a link to a node
    /// not in the map yet (reached by a MOVED before the refresh) stays.
    private var departedNodes: Set<NodeAddress> = []
    /// Exclusive links that ended cleanly, for the next transaction or blocking command.
    private var pool = ExclusiveLinkPool()
    /// The users node links sign in as (see ``NodeLogins``).
    private var logins: NodeLogins
    /// The user a client's commands travel as until it signs in: Slotgate's own, or under
    /// `acl-mode passthrough` nobody (links that never say `AUTH`).
    let clientsDefaultLogin: NodeLogins.ID

    init(loop: ProxyLoop) {
        self.loop = loop
        self.logins = NodeLogins(slotgateAuth: loop.settings.nodeAuthCommand)
        self.clientsDefaultLogin =
            loop.settings.authenticator.checkedByCluster ? self.logins.id(signingInWith: nil) : NodeLogins.slotgate
    }

    /// The number of the links that sign in with `authCommand` (`nil`: links that never say
    /// `AUTH`), given one the first time (see ``NodeLogins``).
    func login(signingInWith authCommand: ByteBuffer?) -> NodeLogins.ID {
        self.logins.id(signingInWith: authCommand)
    }

    /// The `AUTH` links signed in as `login` send first, if any.
    func authCommand(for login: NodeLogins.ID) -> ByteBuffer? {
        self.logins.authCommand(for: login)
    }

    // MARK: - Shared links

    /// The shared link for `key`, if one is open or opening.
    func shared(for key: Key) -> NodeLink? {
        self.shared[key]
    }

    /// Opens the shared link for `key`; requests may be sent on it at once.
    func openShared(_ key: Key) -> NodeLink {
        let link = self.open(to: key.node, owner: self.loop.router, resp3: key.resp3, login: key.login)
        self.setShared(link, for: key)
        return link
    }

    /// Puts or removes the shared link for `key`, keeping the fast path's index of it.
    package func setShared(_ link: NodeLink?, for key: Key) {
        self.shared[key] = link
        self.indexMasterLinks()
    }

    /// The open shared link of Slotgate's own user to the master of shard `shard`, in the
    /// protocol asked for; `nil` when there is none yet.
    @inline(__always)
    func masterLink(shard: Int, resp3: Bool) -> NodeLink? {
        // Subscripted where they are, not copied out: a copy would cost a reference count per request.
        if resp3 {
            return shard < self.masterLinks.resp3.count ? self.masterLinks.resp3[shard] : nil
        }
        return shard < self.masterLinks.resp2.count ? self.masterLinks.resp2[shard] : nil
    }

    /// A new view: its masters are the ones the fast path indexes, and nodes that left the map
    /// have their links closed once idle.
    func install(_ view: ClusterView, replacing previous: ClusterView?) {
        if let previous {
            self.departedNodes.formUnion(Set(previous.slotMap.allNodes).subtracting(view.slotMap.allNodes))
        }
        self.departedNodes.subtract(view.slotMap.allNodes)
        self.masters = view.slotMap.shards.map(\.master)
        self.indexMasterLinks()
    }

    /// Rebuilds the fast path's index of shared links by shard, after the links or the map changed.
    private func indexMasterLinks() {
        self.masterLinks = (
            self.masters.map { self.shared[Key(node: $0, resp3: false)] },
            self.masters.map { self.shared[Key(node: $0, resp3: true)] }
        )
    }

    /// A link closed: the registry and the pool forget it.
    func forget(_ link: NodeLink) {
        let key = Key(node: link.address, resp3: link.resp3, login: link.login)
        if self.shared[key] === link {
            self.setShared(nil, for: key)
        }
        self.pool.remove(link)
    }

    // MARK: - Exclusive links

    /// A link to `node` for `session` alone, within the client's and the proxy's caps: one the
    /// pool kept, when it has one (never for subscriber links), else a new one. `nil` when a cap
    /// is reached.
    func openExclusive(to node: NodeAddress, for session: ClientSession, carriesPushes: Bool = false) -> NodeLink? {
        let budget = self.loop.shared.exclusiveLinks
        guard session.exclusiveLinkCount < budget.limitPerClient, budget.acquire() else { return nil }
        session.exclusiveLinkCount += 1
        if !carriesPushes, let pooled = self.pool.take(node: node, resp3: session.usesRESP3, login: session.nodeLogin) {
            pooled.assign(to: session)
            return pooled
        }
        return self.open(to: node, owner: session, carriesPushes: carriesPushes, resp3: session.usesRESP3, login: session.nodeLogin)
    }

    /// `session` no longer holds `link`: the one place an exclusive link is let go. The budget
    /// gets it back; a link whose work ended cleanly (`reusable`) waits in the pool for the next
    /// client, or closes when the pool is full. A link that closed is only counted out.
    func releaseExclusive(_ link: NodeLink, of session: ClientSession, reusable: Bool) {
        self.loop.shared.exclusiveLinks.release()
        session.exclusiveLinkCount -= 1
        if reusable && !self.pool.put(link) {
            link.close()
        }
    }

    // MARK: - Opening

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
    func open(to node: NodeAddress, owner: any NodeLinkOwner, carriesPushes: Bool = false, resp3: Bool, login: NodeLogins.ID) -> NodeLink {
        let link = NodeLink(address: node, loop: self.loop, owner: owner, carriesPushes: carriesPushes, resp3: resp3, login: login)
        let loopBound = NIOLoopBound((link, self.loop), eventLoop: self.loop.eventLoop)
        let tls = self.loop.monitor.nodeTLS
        ClientBootstrap(group: self.loop.eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(Self.keepaliveIdle, value: 30)
            .channelOption(Self.keepaliveInterval, value: 10)
            .channelOption(Self.keepaliveProbes, value: 3)
            .connectTimeout(self.loop.settings.connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let (link, loop) = loopBound.value
                    if let tls {
                        // Writes made before the handshake ends wait in the TLS handler.
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: nil))
                    }
                    try channel.pipeline.syncOperations.addHandler(NodeLinkHandler(link: link, loop: loop))
                }
            }
            .connect(host: node.host, port: node.port)
            .whenFailure { error in
                let (link, loop) = loopBound.value
                link.connectFailed(error)
                loop.flush.schedule()
            }
        self.loop.logger.debug("connecting to node", metadata: ["upstream.node": "\(node)"])
        return link
    }

    // MARK: - Nodes that refuse connections

    /// Whether `node` refused its last connection and none has succeeded since.
    func isKnownDown(_ node: NodeAddress) -> Bool {
        self.backoff[node] != nil
    }

    /// Whether `node` refused a connection recently and is not to be tried again yet.
    func isBackingOff(from node: NodeAddress) -> Bool {
        guard let backoff = self.backoff[node] else { return false }
        return backoff.notBefore > .now()
    }

    /// Any link to `node` failed to connect: wait before trying it again, a little longer each
    /// time, with jitter so that every loop does not knock at once. Logged once per outage.
    func nodeRefusedConnection(_ node: NodeAddress, error: any Error) {
        let settings = self.loop.settings
        let previous = self.backoff[node]?.delay
        let delay = previous.map { min($0 * 2, settings.maxReconnectDelay) } ?? settings.reconnectDelay
        let jittered = TimeAmount.nanoseconds(Int64(Double(delay.nanoseconds) * Double.random(in: 0.75...1.25)))
        let reason = ProxyErrors.connectFailureReason(error)
        self.backoff[node] = Backoff(notBefore: .now() + jittered, delay: delay, reason: reason)
        self.loop.stats.count(.connectFailed)
        if previous == nil {
            // The other loops learn it too, so their first command for the node waits instead of
            // failing on a connection of its own.
            let delay = settings.reconnectDelay
            self.loop.shared.directory.tellOthers(than: self.loop.eventLoop) { $0.links.peerFoundNodeDown(node, reason: reason, retryAfter: delay) }
            self.loop.logger.warning(
                "cannot connect to node; its requests wait for it or its successor",
                metadata: [
                    "upstream.node": "\(node)", "error": "\(reason)",
                    "failover_hold.ms": "\(self.loop.hold.duration.nanoseconds / 1_000_000)",
                ]
            )
        }
        self.loop.monitor.requestRefresh()
    }

    /// Another loop could not connect to `node`: treat it as down here too, unless this loop
    /// knows better already.
    func peerFoundNodeDown(_ node: NodeAddress, reason: String, retryAfter delay: TimeAmount) {
        guard self.backoff[node] == nil else { return }
        self.backoff[node] = Backoff(notBefore: .now() + delay, delay: delay, reason: reason)
    }

    /// A link to `node` connected: the node is reachable again.
    func nodeConnected(_ node: NodeAddress) {
        guard self.backoff.removeValue(forKey: node) != nil else { return }
        self.loop.logger.info("node reachable again", metadata: ["upstream.node": "\(node)"])
    }

    // MARK: - Housekeeping

    /// On the loop's tick: gives up links whose node left a request unanswered past
    /// `request-timeout`, and closes idle links to nodes that left the cluster.
    func tick(now: NIODeadline) {
        if let limit = self.loop.settings.requestTimeout {
            for link in self.shared.values where link.isOverdue(at: now, limit: limit) {
                link.timedOut(after: limit)
            }
        }
        guard !self.departedNodes.isEmpty else { return }
        for link in self.shared.values where self.departedNodes.contains(link.address) && !link.hasRequestsInFlight {
            self.loop.logger.info("closing the link to a node that left the cluster", metadata: ["upstream.node": "\(link.address)"])
            link.close()
        }
        for link in self.pool.removeAll(where: { self.departedNodes.contains($0.address) }) {
            link.close()
        }
    }

    /// Under `acl-mode passthrough`, once a second: closes the links, shared or pooled, that
    /// signed in as anyone but Slotgate and have had nothing to do for `passthrough-idle-timeout`,
    /// so a user who stopped working costs the nodes no connections.
    func closeIdleUserLinks(now: NIODeadline) {
        let limit = self.loop.settings.passthroughIdleTimeout
        let isIdle = { (link: NodeLink) in link.login != NodeLogins.slotgate && link.hasBeenIdle(for: limit, at: now) }
        for link in self.shared.values where isIdle(link) {
            link.close()
        }
        for link in self.pool.removeAll(where: isIdle) {
            link.close()
        }
    }

    /// Shutting down: closes every link on purpose; nobody waits for what is still in flight.
    func closeAll() {
        for link in self.shared.values { link.abandon() }
        for link in self.pool.removeAll() { link.close() }
    }
}

@available(*, unavailable)
extension NodeLinks: Sendable {}
