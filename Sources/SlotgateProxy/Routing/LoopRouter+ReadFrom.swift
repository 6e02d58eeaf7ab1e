//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateCluster
import SlotgateConfiguration

/// Picking the node for a read-only command under the `read-from` policy.
extension LoopRouter {
    /// The node to read `slot` from; `nil` while the slot has no owner or no map exists.
    func readNode(for slot: HashSlot) -> NodeAddress? {
        guard let view = self.view, let shardIndex = view.slotMap.shardIndex(for: slot) else { return nil }
        let shard = view.slotMap.shards[shardIndex]
        let healthy = view.readTargets.healthyReplicas[shardIndex].filter { !self.links.isBackingOff(from: $0) }
        switch self.loop.settings.readPolicy {
        case .master:
            return shard.master
        case .preferReplica:
            return self.nextOf(healthy) ?? shard.master
        case .replica:
            return self.nextOf(healthy) ?? self.nextOf(shard.replicas.filter { !self.links.isBackingOff(from: $0) }) ?? shard.master
        case .nearest:
            let nearest = view.readTargets.nearest[shardIndex]
            return self.links.isBackingOff(from: nearest) ? shard.master : nearest
        }
    }

    /// The next of `nodes` in turn, spreading reads over them; `nil` for none.
    private func nextOf(_ nodes: [NodeAddress]) -> NodeAddress? {
        guard !nodes.isEmpty else { return nil }
        self.nextReadReplica &+= 1
        return nodes[self.nextReadReplica % nodes.count]
    }
}
