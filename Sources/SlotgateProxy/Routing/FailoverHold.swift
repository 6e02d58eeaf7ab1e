//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Logging
import NIOCore
import SlotgateCluster

/// Requests and sessions waiting for a node that cannot be reached, so that a failover costs
/// clients time, not errors.
///
/// Requests for a node that refuses connections wait in ``HeldRequests`` until a new slot map
/// names another master for their slots, or the node can be tried again, or the hold runs out.
/// A session whose command needs a link of its own (a transaction, a blocking command) is parked
/// here the same way, with the commands behind it held in the session.
final class FailoverHold {
    private unowned(unsafe) let loop: ProxyLoop
    private var held: HeldRequests
    /// Sessions whose command waits for a node that cannot be reached, and that node.
    private var parkedSessions: [(session: ClientSession, node: NodeAddress)] = []

    init(loop: ProxyLoop) {
        self.loop = loop
        self.held = HeldRequests(byteBudget: loop.settings.holdByteBudget)
    }

    /// How long a request may wait for an unreachable node: the configured `failover-hold`, or by
    /// default the cluster's own node timeout plus time for an election.
    var duration: TimeAmount {
        if let configured = self.loop.settings.failoverHold { return configured }
        let allowance = self.loop.settings.electionAllowance
        return TimeAmount(self.loop.router.view?.nodeTimeout ?? .seconds(15)) + allowance
    }

    /// How many requests wait.
    var heldCount: Int { self.held.count }

    /// Whether requests for `node` wait; later ones must wait behind them to keep their order.
    func isHolding(for node: NodeAddress) -> Bool {
        self.held.isHolding(for: node)
    }

    /// Holds `request` until `node` (or its successor) can take it; fails it at once when the hold
    /// is over or the budget is spent.
    func hold(_ request: RoutedRequest, for node: NodeAddress) {
        let now = NIODeadline.now()
        let deadline = request.holdDeadline ?? now + self.duration
        let reason = self.loop.links.backoff[node]?.reason ?? "no connection"
        guard deadline > now else {
            self.loop.stats.count(.holdExpired)
            request.target.deliverError(ProxyErrors.nodeUnreachable(node, reason, held: self.duration))
            return
        }
        if request.holdDeadline == nil {
            self.loop.stats.count(.held)
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
            self.loop.router.resend(entry.request, lastSentTo: entry.node)
        }
    }

    /// On the loop's tick: held requests go on only when one of their nodes may be tried again
    /// (its backoff is over, or it never refused: a CLUSTERDOWN retry) or a hold ran out;
    /// otherwise they stay as they are, and only the topology is asked about. Parked sessions
    /// whose node is no longer known down are tried again.
    func tick(now: NIODeadline) {
        if !self.held.isEmpty {
            self.loop.monitor.requestRefresh()
            let due =
                self.held.earliestDeadline.map { $0 <= now } == true || self.held.nodes.contains { !self.loop.links.isBackingOff(from: $0) }
            if due {
                self.releaseHeldRequests()
            }
        }
        self.retryParkedSessions(everyone: false)
    }

    /// Tries `session`'s parked command, which waits for `node`, again once the node may be
    /// reachable or a new slot map arrives.
    func park(_ session: ClientSession, waitingFor node: NodeAddress) {
        self.parkedSessions.append((session, node))
        self.loop.monitor.requestRefresh()
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
            if everyone || !self.loop.links.isKnownDown(node) || session.parkExpired {
                session.retryParked()
                continue
            }
            self.parkedSessions.append((session, node))
            if !self.loop.links.isBackingOff(from: node) && probed.insert(node).inserted {
                self.loop.router.send(RoutedRequest(wire: ProxyReplies.pingCommand, slot: nil, target: .discard, resp3: false), to: node)
            }
        }
    }
}

@available(*, unavailable)
extension FailoverHold: Sendable {}
