//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// What changed between two slot maps, for the one log line an operator reads per topology change:
/// how many slots moved to another master, which nodes joined or left, which replicas became masters.
public struct SlotMapChange: Sendable, Equatable {
    public let movedSlots: Int
    public let addedNodes: Set<NodeAddress>
    public let removedNodes: Set<NodeAddress>
    public let promotedMasters: Set<NodeAddress>

    public init(from old: SlotMap, to new: SlotMap) {
        var moved = 0
        for number in 0..<HashSlot.count {
            let slot = HashSlot(rawValue: number)!
            if old.master(for: slot) != new.master(for: slot) { moved += 1 }
        }
        self.movedSlots = moved
        let oldNodes = Set(old.allNodes)
        let newNodes = Set(new.allNodes)
        self.addedNodes = newNodes.subtracting(oldNodes)
        self.removedNodes = oldNodes.subtracting(newNodes)
        let oldReplicas = Set(old.shards.flatMap(\.replicas))
        self.promotedMasters = Set(new.shards.map(\.master)).intersection(oldReplicas)
    }
}
