//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Benchmark
import SlotgateCluster

/// `HashSlot(key:)` on a key's raw bytes, as the fast path calls it: one operation is one key.
enum HashSlotBenchmarks {
    static func register() {
        self.register("HashSlot: 16-byte key", keys: (0..<16).map { "session:" + RESPInputs.key($0) })
        self.register("HashSlot: key with a hash tag", keys: (0..<16).map { "{" + RESPInputs.key($0) + "}.following" })
    }

    /// Hashes the keys in turn, so that no two operations in a row hash the same bytes and the
    /// compiler cannot hash once for all of them. The keys are all as long as the first, and
    /// there are a power of two of them, so the next one is found with a mask.
    private static func register(_ name: String, keys: [String]) {
        let length = keys[0].utf8.count
        precondition(keys.allSatisfy { $0.utf8.count == length } && keys.count.nonzeroBitCount == 1)
        let packed = keys.flatMap(\.utf8)
        Benchmark(name, configuration: .init(scalingFactor: .kilo)) { benchmark in
            packed.withUnsafeBytes { all in
                for turn in benchmark.scaledIterations {
                    let start = (turn & (keys.count - 1)) * length
                    blackHole(HashSlot(key: UnsafeRawBufferPointer(rebasing: all[start..<(start + length)])))
                }
            }
        }
    }
}
