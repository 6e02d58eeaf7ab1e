//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// The cap on node links that single clients hold to themselves (transactions, blocking
/// commands), counted across every event loop, so that a flood of blocked clients cannot open
/// unbounded connections to the nodes.
package final class ExclusiveLinkBudget: Sendable {
    let limit: Int
    /// Most links one client may hold at once (a transaction, a blocking command, subscriber links).
    let limitPerClient: Int
    private let used = BoundedCounter()

    /// Links held now.
    var inUse: Int { self.used.value }

    package init(limit: Int, limitPerClient: Int) {
        self.limit = limit
        self.limitPerClient = limitPerClient
    }

    /// Takes one link from the budget; `false` when all are in use.
    func acquire() -> Bool {
        self.used.acquire(limit: self.limit)
    }

    /// Gives a link back.
    func release() {
        self.used.release()
    }
}
