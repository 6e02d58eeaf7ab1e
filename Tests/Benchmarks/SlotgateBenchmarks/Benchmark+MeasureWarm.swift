//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Benchmark

extension Benchmark {
    /// Unmeasured runs before the measured ones (see ``measureWarm(_:)``).
    static let warmUpRuns = 16

    /// Runs `operation` once per scaled iteration, measured, after a few runs that are not: those
    /// size the storage the code under test keeps and reuses, so that what is counted is its
    /// steady state.
    func measureWarm(_ operation: () throws -> Void) rethrows {
        for _ in 0..<Self.warmUpRuns {
            try operation()
        }
        self.startMeasurement()
        for _ in self.scaledIterations {
            try operation()
        }
        self.stopMeasurement()
    }
}
