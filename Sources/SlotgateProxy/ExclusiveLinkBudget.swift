//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Synchronization

/// The cap on node links that single clients hold to themselves (transactions, blocking
/// commands), counted across every event loop, so that a flood of blocked clients cannot open
/// unbounded connections to the nodes.
final class ExclusiveLinkBudget: Sendable {
    let limit: Int
    /// Most links one client may hold at once (a transaction, a blocking command, subscriber links).
    let limitPerClient: Int
    private let inUse = Atomic<Int>(0)

    init(limit: Int, limitPerClient: Int) {
        self.limit = limit
        self.limitPerClient = limitPerClient
    }

    /// Takes one link from the budget; `false` when all are in use.
    func acquire() -> Bool {
        while true {
            let current = self.inUse.load(ordering: .relaxed)
            guard current < self.limit else { return false }
            if self.inUse.compareExchange(expected: current, desired: current + 1, ordering: .relaxed).exchanged { return true }
        }
    }

    /// Gives a link back.
    func release() {
        self.inUse.subtract(1, ordering: .relaxed)
    }
}
