//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateCluster

/// The one integer cursor a client sees while `SCAN` walks every master in turn.
///
/// The cursor packs two things: the node's own cursor, and which master is being scanned, named
/// by the lowest slot that master serves (a name that, unlike a list index, stays meaningful when
/// masters are added or removed). `cursor = nodeCursor × 16384 + firstSlot`. Masters are walked
/// in order of their first slot; `0` starts at the first master and, returned, means done.
///
/// If the topology changes mid-scan, the cursor's slot is looked up in the new map and the scan
/// goes on with whichever master serves it now: keys that stayed on their master are still seen
/// (a master whose first slot moved away is picked up by its new first slot), while keys that
/// moved between masters may be seen twice or, if they moved to a master already scanned, not
/// at all — SCAN's own guarantee covers only keys that stay put.
enum ScanCursor {
    /// Where a scan is: which master (by shard index) and the proxy's view of the masters' order.
    struct Position {
        /// First slots of all masters, ascending.
        let order: [Int]
        /// Index into `order` of the master being scanned.
        let current: Int

        /// The client cursor to return after the node answered with `nodeCursor`.
        func next(nodeCursor: UInt64) -> UInt64 {
            if nodeCursor != 0 {
                return nodeCursor * UInt64(HashSlot.count) + UInt64(self.order[self.current])
            }
            return self.current + 1 < self.order.count ? UInt64(self.order[self.current + 1]) : 0
        }
    }

    /// Reads a client cursor against `slotMap`: the master to ask, its node cursor, and the position.
    /// - Returns: `nil` when the cursor is not one Slotgate could have issued for this cluster.
    static func decode(_ cursor: UInt64, in slotMap: SlotMap) -> (master: NodeAddress, nodeCursor: UInt64, position: Position)? {
        let order = slotMap.firstSlots.sorted()
        guard !order.isEmpty else { return nil }
        let slotNumber = Int(cursor % UInt64(HashSlot.count))
        let nodeCursor = cursor / UInt64(HashSlot.count)
        // A first slot names a master; a slot that is no master's first slot any more (the
        // topology changed) is followed to the master that serves it now.
        let current: Int
        if cursor == 0 {
            current = 0
        } else if let index = order.firstIndex(of: slotNumber) {
            current = index
        } else if let slot = HashSlot(rawValue: slotNumber), let shard = slotMap.shardIndex(for: slot),
            let index = order.firstIndex(of: slotMap.firstSlots[shard])
        {
            current = index
        } else {
            return nil
        }
        guard let shard = slotMap.firstSlots.firstIndex(of: order[current]) else { return nil }
        return (slotMap.shards[shard].master, nodeCursor, Position(order: order, current: current))
    }

    /// Largest node cursor that still fits the packing.
    static let maximumNodeCursor = UInt64.max / UInt64(HashSlot.count)
}
