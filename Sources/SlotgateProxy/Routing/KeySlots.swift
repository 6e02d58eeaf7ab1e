//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster

/// The slot a command's keys hash to, gathered key by key, and whether they disagree.
struct KeySlots {
    /// The first key's slot; `nil` when the command has no keys.
    private(set) var slot: HashSlot?
    /// Set once two keys hash to different slots.
    private(set) var spansSlots = false
    /// The first key, for the hot key sampler.
    private(set) var firstKey: ByteBuffer?

    mutating func add(_ key: ByteBuffer) {
        let keySlot = key.withUnsafeReadableBytes { HashSlot(key: $0) }
        if let slot, slot != keySlot { self.spansSlots = true }
        self.slot = self.slot ?? keySlot
        self.firstKey = self.firstKey ?? key
    }
}
