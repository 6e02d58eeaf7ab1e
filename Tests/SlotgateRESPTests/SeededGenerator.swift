//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// A small deterministic random number generator (SplitMix64), so the fragmentation tests cut
/// the byte stream differently on every iteration yet identically on every run.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Array where Element == UInt8 {
    /// The bytes of `text` as UTF-8; keeps test literals short.
    init(_ text: String) {
        self = Array(text.utf8)
    }

    /// Cuts the array into consecutive chunks whose sizes are drawn from `sizes`.
    func chunked(sizes: ClosedRange<Int>, using generator: inout SeededGenerator) -> [[UInt8]] {
        var chunks: [[UInt8]] = []
        var start = 0
        while start < self.count {
            let size = Int.random(in: sizes, using: &generator)
            let end = Swift.min(start + size, self.count)
            chunks.append(Array(self[start..<end]))
            start = end
        }
        return chunks
    }

    /// One chunk per byte.
    var byteByByte: [[UInt8]] {
        self.map { [$0] }
    }
}
