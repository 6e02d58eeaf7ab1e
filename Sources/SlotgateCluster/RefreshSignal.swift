//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation

/// The doorbell between event loops and the topology monitor's thread.
///
/// Event loops ring it (a MOVED, a lost link) without blocking; the monitor thread sleeps on it.
/// Rings that come faster than the monitor's minimum interval fold into one refresh, which is how
/// a storm of MOVED replies costs the cluster a single `CLUSTER SLOTS`.
final class RefreshSignal: @unchecked Sendable {
    // All state is guarded by `condition`.
    private let condition = NSCondition()
    private var requested = false
    private var stopped = false

    /// Asks for a refresh as soon as the minimum interval allows.
    func request() {
        self.condition.lock()
        self.requested = true
        self.condition.signal()
        self.condition.unlock()
    }

    /// Ends the monitor's waiting for good.
    func stop() {
        self.condition.lock()
        self.stopped = true
        self.condition.signal()
        self.condition.unlock()
    }

    /// Blocks until it is time to refresh: a request once `earliest` has passed, or `deadline`.
    /// - Returns: `false` once stopped.
    func waitForRefresh(earliest: ContinuousClock.Instant, deadline: ContinuousClock.Instant) -> Bool {
        self.condition.lock()
        defer { self.condition.unlock() }
        while !self.stopped {
            let now = ContinuousClock.now
            if (self.requested && now >= earliest) || now >= deadline {
                self.requested = false
                return true
            }
            let wakeAt = self.requested ? min(earliest, deadline) : deadline
            let seconds = Double((wakeAt - now).components.seconds) + Double((wakeAt - now).components.attoseconds) / 1e18
            _ = self.condition.wait(until: Date(timeIntervalSinceNow: seconds))
        }
        return false
    }
}
