//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// A hash tag for every slot, for keys Slotgate itself must place on a given node.
extension HashSlot {
    /// The shortest decimal number whose hash tag falls in each slot, by slot: the first
    /// numbers 0, 1, 2, … to reach each slot. Found once, on first use (about 200,000 CRC16s of a
    /// few bytes).
    private static let tags: [String] = {
        var tags = [String?](repeating: nil, count: HashSlot.count)
        var missing = HashSlot.count
        var number = 0
        while missing > 0 {
            let text = String(number)
            let slot = Int(HashSlot(key: text).rawValue)
            if tags[slot] == nil {
                tags[slot] = text
                missing -= 1
            }
            number += 1
        }
        return tags.map { $0! }
    }()

    /// A hash tag whose keys are in this slot: `"{" + tag + "}"` in a key puts the key here.
    public var tag: String { Self.tags[Int(self.rawValue)] }
}
