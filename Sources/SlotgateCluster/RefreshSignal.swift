//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOConcurrencyHelpers

/// The doorbell between event loops and the topology monitor's thread.
///
/// Event loops ring it (a MOVED, a lost link) without blocking; the monitor thread sleeps on it.
/// Rings that come faster than the monitor's minimum interval fold into one refresh, which is how
/// a storm of MOVED replies costs the cluster a single `CLUSTER SLOTS`.
final class RefreshSignal: Sendable {
    /// `true` while a ring the monitor has not seen waits; the stop rings it for good.
    private let bell = ConditionLock(value: false)
    /// Guarded by `bell`'s lock.
    nonisolated(unsafe) private var stopped = false

    /// Asks for a refresh as soon as the minimum interval allows.
    func request() {
        self.bell.lock()
        self.bell.unlock(withValue: true)
    }

    /// Ends the monitor's waiting for good.
    func stop() {
        self.bell.lock()
        self.stopped = true
        self.bell.unlock(withValue: true)
    }

    /// Blocks until it is time to refresh: a request once `earliest` has passed, or `deadline`.
    /// - Returns: `false` once stopped.
    func waitForRefresh(earliest: ContinuousClock.Instant, deadline: ContinuousClock.Instant) -> Bool {
        var requested = false
        while true {
            let wakeAt = requested ? min(earliest, deadline) : deadline
            if self.bell.lock(whenValue: true, timeoutSeconds: max(wakeAt - .now, .zero) / .seconds(1)) {
                let stopped = self.stopped
                // A stop stays rung, so that every later wait ends at once too.
                self.bell.unlock(withValue: stopped)
                if stopped { return false }
                requested = true
            }
            let now = ContinuousClock.now
            if (requested && now >= earliest) || now >= deadline { return true }
        }
    }
}
