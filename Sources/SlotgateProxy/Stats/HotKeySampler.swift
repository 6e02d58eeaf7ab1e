//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// A sampled count of the keys clients ask for most, so an operator can see which keys make a
/// shard hot.
///
/// One keyed command in ``sampleEvery`` is counted, which keeps the cost per command to an
/// integer increment. Counts halve every ``halfLife`` seconds, so they follow the current request
/// rate rather than all history; the table keeps at most four times the keys asked for, dropping
/// the rarest when full.
struct HotKeySampler {
    static let sampleEvery = 16
    static let halfLife = 10.0
    private var countdown = HotKeySampler.sampleEvery
    private(set) var counts: [String: Double] = [:]

    /// Counts the key of a keyed command, one time in ``sampleEvery``.
    mutating func saw(_ key: @autoclosure () -> String, keeping capacity: Int) {
        guard capacity > 0 else { return }
        self.countdown -= 1
        guard self.countdown == 0 else { return }
        self.countdown = Self.sampleEvery
        self.counts[key(), default: 0] += Double(Self.sampleEvery)
        if self.counts.count > capacity * 4 {
            let rarest = self.counts.sorted { $0.value < $1.value }.prefix(self.counts.count - capacity * 2)
            for (key, _) in rarest { self.counts[key] = nil }
        }
    }

    /// Halves every count (called every ``halfLife`` seconds) and forgets keys that faded out.
    mutating func decay() {
        self.counts = self.counts.compactMapValues { $0 >= 2 ? $0 / 2 : nil }
    }
}
