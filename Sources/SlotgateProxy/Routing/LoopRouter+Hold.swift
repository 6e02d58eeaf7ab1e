//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Logging
import NIOCore
import SlotgateCluster

/// The failover hold, and the router's housekeeping tick.
///
/// Requests for a node that refuses connections wait in ``HeldRequests`` until a new slot map
/// names another master for their slots, or the node can be tried again, or the hold runs out.
/// The tick also closes links whose node stopped answering (the request timeout) and links to
/// nodes that left the cluster.
extension LoopRouter {
    /// How often the housekeeping tick runs.
    static let tickInterval = TimeAmount.milliseconds(50)
    /// Ticks between the once-a-second client limit checks.
    private static let ticksPerSecond = Int(1_000_000_000 / tickInterval.nanoseconds)
    /// Ticks between halvings of the hot key counts.
    private static let ticksPerHotKeyHalfLife = Int(HotKeySampler.halfLife) * ticksPerSecond
    /// Ticks between checks for freed memory to give back (see ``FreeMemoryReturn``).
    private static let ticksPerMemoryCheck = 2 * ticksPerSecond

    /// How long a request may wait for an unreachable node: the configured `failover-hold`, or by
    /// default the cluster's own node timeout plus time for an election.
    var failoverHold: TimeAmount {
        if let configured = self.settings.failoverHold { return configured }
        return TimeAmount(self.view?.nodeTimeout ?? .seconds(15)) + self.settings.electionAllowance
    }

    /// Holds `request` until `node` (or its successor) can take it; fails it at once when the hold
    /// is over or the budget is spent.
    func hold(_ request: RoutedRequest, for node: NodeAddress) {
        let now = NIODeadline.now()
        let deadline = request.holdDeadline ?? now + self.failoverHold
        let reason = self.reconnectBackoff[node]?.reason ?? "no connection"
        guard deadline > now else {
            self.stats.count(.holdExpired)
            request.target.deliverError(ProxyErrors.nodeUnreachable(node, reason, held: self.failoverHold))
            return
        }
        if request.holdDeadline == nil {
            self.stats.count(.held)
        }
        var waiting = request
        waiting.holdDeadline = deadline
        guard self.held.hold(waiting, for: node) else {
            request.target.deliverError(ProxyErrors.holdBudgetSpent(node, reason, budget: self.held.byteBudget))
            return
        }
    }

    /// Sends every held request on again, oldest first: by its slot under the current map, or to
    /// its node for a request without one. Those whose node is still unreachable wait again.
    func releaseHeldRequests() {
        guard !self.held.isEmpty else { return }
        for entry in self.held.releaseAll() where entry.request.target.isAwaited {
            self.resend(entry.request, lastSentTo: entry.node)
        }
    }

    /// On a tick: held requests go on only when one of their nodes may be tried again (its
    /// backoff is over, or it never refused: a CLUSTERDOWN retry) or a hold ran out; otherwise
    /// they stay as they are, and only the topology is asked about.
    private func releaseHeldRequestsIfDue(now: NIODeadline) {
        guard !self.held.isEmpty else { return }
        self.monitor.requestRefresh()
        let due = self.held.earliestDeadline.map { $0 <= now } == true || self.held.nodes.contains { !self.isBackingOff(from: $0) }
        if due {
            self.releaseHeldRequests()
        }
    }

    /// Tries `session`'s parked command, which waits for `node`, again once the node may be
    /// reachable or a new slot map arrives.
    func park(_ session: ClientSession, waitingFor node: NodeAddress) {
        self.parkedSessions.append((session, node))
        self.monitor.requestRefresh()
    }

    /// Tries parked commands again: all of them on a new slot map (`everyone`), otherwise those
    /// whose node is no longer known to be down. For a node whose backoff is over, a `PING` probes
    /// it, so that a node that came back is noticed even with no other traffic for it.
    func retryParkedSessions(everyone: Bool) {
        guard !self.parkedSessions.isEmpty else { return }
        let parked = self.parkedSessions
        self.parkedSessions.removeAll()
        var probed = Set<NodeAddress>()
        for (session, node) in parked {
            if everyone || !self.isKnownDown(node) || session.parkExpired {
                session.retryParked()
                continue
            }
            self.parkedSessions.append((session, node))
            if !self.isBackingOff(from: node) && probed.insert(node).inserted {
                self.send(RoutedRequest(wire: ProxyReplies.pingCommand, slot: nil, target: .discard, resp3: false), to: node)
            }
        }
    }

    /// Starts the housekeeping tick on this router's loop.
    func startTicking() {
        let loopBound = NIOLoopBound(self, eventLoop: self.eventLoop)
        self.eventLoop.scheduleRepeatedTask(initialDelay: Self.tickInterval, delay: Self.tickInterval) { _ in
            loopBound.value.tick()
        }
    }

    private func tick() {
        let now = NIODeadline.now()
        if let limit = self.settings.requestTimeout {
            for link in self.links.values where link.isOverdue(at: now, limit: limit) {
                link.timedOut(after: limit)
            }
        }
        if !self.departedNodes.isEmpty {
            for link in self.links.values where self.departedNodes.contains(link.address) && !link.hasRequestsInFlight {
                self.logger.info("closing the link to a node that left the cluster", metadata: ["upstream.node": "\(link.address)"])
                link.close()
            }
            for link in self.linkPool.removeAll(where: { self.departedNodes.contains($0.address) }) {
                link.close()
            }
        }
        self.releaseHeldRequestsIfDue(now: now)
        self.retryParkedSessions(everyone: false)
        self.ticks &+= 1
        if self.ticks % Self.ticksPerSecond == 0 {
            for session in self.sessions.values {
                session.enforceLimits(now: now, idleTimeout: self.settings.idleTimeout)
            }
            if self.settings.authenticator.checkedByCluster {
                self.closeIdleUserLinks(now: now)
            }
        }
        if self.ticks % Self.ticksPerHotKeyHalfLife == 0 {
            self.stats.hotKeys.decay()
        }
        if self.ticks % Self.ticksPerMemoryCheck == 0 {
            FreeMemoryReturn.returnIfWorthIt()
        }
        self.scheduleFlush()
    }
}
