//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateCluster
import SlotgateConfiguration

/// Everything the admin port shows, gathered from every event loop and the topology monitor at
/// one moment: the value each endpoint renders in its own format.
struct AdminReport: Sendable {
    var stats: StatsSnapshot
    /// The view the loops route by; `nil` before the first slot map.
    var view: ClusterView?
    var monitor: MonitorStatus
    var configuration: ProxyConfiguration
    var uptimeSeconds: Double
    var exclusiveLinksInUse: Int
    /// Failed `AUTH` attempts, and attempts refused unchecked by `auth-failure-limit`.
    var auth: AuthFailureLimiter.Totals

    /// Healthy means: a slot map covering every slot, and every master reachable, both by the
    /// monitor and by every event loop. Otherwise the reason.
    var unhealthyReason: String? {
        guard let view else { return "no slot map yet: \(self.monitor.lastFailure ?? "topology discovery has not finished")" }
        let assigned = view.slotMap.assignedSlotCount
        guard assigned == HashSlot.count else { return "the slot map covers \(assigned) of \(HashSlot.count) slots" }
        let masters = view.slotMap.shards.map(\.master)
        let unreachable = masters.filter { self.monitor.unreachableMasters.contains($0) || self.stats.nodes[$0]?.unreachable == true }
        guard unreachable.isEmpty else { return "masters unreachable: \(unreachable.map(\.description).sorted().joined(separator: ", "))" }
        return nil
    }
}
