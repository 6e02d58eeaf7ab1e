//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateCluster

/// Groups the keys of a multi-key command by slot, in the order each slot first appears: the
/// parts a command such as `MSET` is split into. One per event loop, reused for every command, so
/// grouping allocates nothing once it has warmed up, and costs one table lookup per key whatever
/// the number of keys or slots.
struct SlotGrouping {
    /// The part of each slot seen in the current command, -1 for the others; made on first use.
    private var partOfSlot: [Int32] = []
    /// Each part's slot.
    private(set) var partSlots: [HashSlot] = []
    /// How many keys each part has.
    private(set) var keyCounts: [Int] = []
    /// Each key's part, by key position.
    private(set) var partOfKey: [Int32] = []
    /// The next key of the same part, by key position; -1 after a part's last key.
    private var nextKeyInPart: [Int32] = []
    /// Each part's first and last key positions.
    private var firstKeys: [Int32] = []
    private var lastKeys: [Int32] = []

    var partCount: Int { self.partSlots.count }

    /// Groups `keyCount` keys whose slots `slotOfKey` gives, forgetting the previous command's groups.
    mutating func group(keyCount: Int, slotOfKey: (Int) -> HashSlot) {
        if self.partOfSlot.isEmpty {
            self.partOfSlot = Array(repeating: -1, count: HashSlot.count)
        }
        for slot in self.partSlots {
            self.partOfSlot[Int(slot.rawValue)] = -1
        }
        self.partSlots.removeAll(keepingCapacity: true)
        self.keyCounts.removeAll(keepingCapacity: true)
        self.firstKeys.removeAll(keepingCapacity: true)
        self.lastKeys.removeAll(keepingCapacity: true)
        self.partOfKey.removeAll(keepingCapacity: true)
        self.nextKeyInPart.removeAll(keepingCapacity: true)
        for key in 0..<keyCount {
            let slot = slotOfKey(key)
            var part = Int(self.partOfSlot[Int(slot.rawValue)])
            if part < 0 {
                part = self.partSlots.count
                self.partOfSlot[Int(slot.rawValue)] = Int32(part)
                self.partSlots.append(slot)
                self.keyCounts.append(0)
                self.firstKeys.append(Int32(key))
            } else {
                self.nextKeyInPart[Int(self.lastKeys[part])] = Int32(key)
            }
            if part == self.lastKeys.count {
                self.lastKeys.append(Int32(key))
            } else {
                self.lastKeys[part] = Int32(key)
            }
            self.keyCounts[part] += 1
            self.partOfKey.append(Int32(part))
            self.nextKeyInPart.append(-1)
        }
    }

    /// Calls `body` with the position of each key of `part`, in order.
    func forEachKey(of part: Int, _ body: (Int) -> Void) {
        var key = self.firstKeys[part]
        while key >= 0 {
            body(Int(key))
            key = self.nextKeyInPart[Int(key)]
        }
    }
}
