//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// Which node serves each of the 16384 hash slots: an immutable snapshot of the cluster's layout.
///
/// The topology monitor builds a new map whenever the cluster changes and hands the same value to
/// every event loop, so routing a command is an array lookup with no lock. Each slot holds the
/// index of its shard (a master and its replicas), `unassigned` for a slot no node serves.
public struct SlotMap: Sendable, Equatable {
    /// A master and the replicas that copy it.
    public struct Shard: Sendable, Hashable {
        public var master: NodeAddress
        public var replicas: [NodeAddress]

        public init(master: NodeAddress, replicas: [NodeAddress]) {
            self.master = master
            self.replicas = replicas
        }
    }

    /// The shard index of a slot no node serves, in ``shardIndexBySlot``.
    public static let unassigned = UInt16.max

    /// The shards, in the order the cluster listed them.
    public let shards: [Shard]
    /// The lowest slot each shard serves, by shard index: a name for a shard that outlives
    /// the map, which is what a cluster-wide SCAN cursor remembers.
    public let firstSlots: [Int]
    /// The index in ``shards`` of each slot's shard, ``unassigned`` for a slot no node serves.
    private let shardIndexBySlot: [UInt16]

    /// Builds a map from slot ranges; a later range for the same slot wins, and slots outside
    /// 0…16383 are ignored.
    public init(ranges: [(slots: ClosedRange<Int>, shard: Shard)]) {
        var shards: [Shard] = []
        var indexByMaster: [NodeAddress: Int] = [:]
        var slots = [UInt16](repeating: Self.unassigned, count: HashSlot.count)
        for (range, shard) in ranges {
            let index: Int
            if let known = indexByMaster[shard.master] {
                index = known
                shards[known].replicas.append(contentsOf: shard.replicas.filter { !shards[known].replicas.contains($0) })
            } else {
                index = shards.count
                indexByMaster[shard.master] = index
                shards.append(shard)
            }
            for slot in range where (0..<HashSlot.count).contains(slot) {
                slots[slot] = UInt16(index)
            }
        }
        var firstSlots = [Int](repeating: HashSlot.count, count: shards.count)
        for (slot, index) in slots.enumerated().reversed() where index != Self.unassigned {
            firstSlots[Int(index)] = slot
        }
        self.shards = shards
        self.firstSlots = firstSlots
        self.shardIndexBySlot = slots
    }

    /// The shard serving `slot`, or `nil` while no node serves it.
    public func shard(for slot: HashSlot) -> Shard? {
        self.shardIndex(for: slot).map { self.shards[$0] }
    }

    /// The index in ``shards`` of the shard serving `slot`, or `nil` while no node serves it.
    public func shardIndex(for slot: HashSlot) -> Int? {
        let index = self.shardIndexBySlot[Int(slot.rawValue)]
        return index == Self.unassigned ? nil : Int(index)
    }

    /// The master serving `slot`, or `nil` while no node serves it.
    public func master(for slot: HashSlot) -> NodeAddress? {
        self.shard(for: slot)?.master
    }

    /// How many slots have an owner; 16384 in a healthy cluster.
    public var assignedSlotCount: Int {
        self.shardIndexBySlot.reduce(0) { $0 + ($1 == Self.unassigned ? 0 : 1) }
    }

    /// Runs of consecutive slots with the same owner, in slot order, with the index of that
    /// owner in ``shards`` (`nil` for unassigned slots).
    public var slotRanges: [(slots: ClosedRange<Int>, shard: Int?)] {
        var ranges: [(slots: ClosedRange<Int>, shard: Int?)] = []
        var start = 0
        while start < HashSlot.count {
            let index = self.shardIndexBySlot[start]
            var end = start
            while end + 1 < HashSlot.count, self.shardIndexBySlot[end + 1] == index { end += 1 }
            ranges.append((start...end, index == Self.unassigned ? nil : Int(index)))
            start = end + 1
        }
        return ranges
    }

    /// Every node the map names, masters first.
    public var allNodes: [NodeAddress] {
        self.shards.map(\.master) + self.shards.flatMap(\.replicas)
    }
}
