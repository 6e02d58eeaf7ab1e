//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Synchronization

/// A count shared by every event loop that must stay under a limit: clients connected
/// (`maxclients`), links held by single clients. One atomic, so the loops never wait on a lock.
package final class BoundedCounter: Sendable {
    private let count = Atomic<Int>(0)

    package init() {}

    /// The count now.
    var value: Int { self.count.load(ordering: .relaxed) }

    /// Adds one if the count is below `limit`; `false` when it is not.
    func acquire(limit: Int) -> Bool {
        while true {
            let current = self.count.load(ordering: .relaxed)
            guard current < limit else { return false }
            if self.count.compareExchange(expected: current, desired: current + 1, ordering: .relaxed).exchanged { return true }
        }
    }

    /// Takes one away.
    func release() {
        self.count.subtract(1, ordering: .relaxed)
    }
}
