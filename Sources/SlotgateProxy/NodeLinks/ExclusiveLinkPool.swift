//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateCluster

/// Exclusive node links (a transaction's, a blocking command's) that ended cleanly, kept by an
/// event loop's router for the next client that needs one, so that a `MULTI … EXEC` does not
/// cost a new TCP connection to the node.
///
/// A link comes here only once the node has answered everything sent on it, and the command
/// that ended it (`EXEC`, `DISCARD`, `UNWATCH`, or the blocking command's reply) leaves nothing
/// watched on the node's side. Links that broke, were aborted, or belonged to a client that left
/// mid-way are closed instead.
struct ExclusiveLinkPool {
    /// Most idle links kept per node and protocol; more are closed.
    static let capacityPerNode = 128

    private var idle: [NodeLinks.Key: [NodeLink]] = [:]

    /// An idle link to `node` in the protocol and as the user asked for, taken out of the pool.
    mutating func take(node: NodeAddress, resp3: Bool, login: NodeLogins.ID) -> NodeLink? {
        let key = NodeLinks.Key(node: node, resp3: resp3, login: login)
        while let link = self.idle[key]?.popLast() {
            if link.isIdle { return link }
            link.close()
        }
        return nil
    }

    /// Keeps `link` for later; `false` when it cannot be reused or the pool is full.
    mutating func put(_ link: NodeLink) -> Bool {
        let key = NodeLinks.Key(node: link.address, resp3: link.resp3, login: link.login)
        guard link.isIdle, self.idle[key, default: []].count < Self.capacityPerNode else { return false }
        link.assign(to: nil)
        self.idle[key, default: []].append(link)
        return true
    }

    /// Forgets a pooled link that closed.
    mutating func remove(_ link: NodeLink) {
        let key = NodeLinks.Key(node: link.address, resp3: link.resp3, login: link.login)
        self.idle[key]?.removeAll { $0 === link }
    }

    /// Takes out every pooled link `predicate` picks (all of them by default), for closing.
    mutating func removeAll(where predicate: (NodeLink) -> Bool = { _ in true }) -> [NodeLink] {
        var removed: [NodeLink] = []
        for key in self.idle.keys {
            removed += self.idle[key]?.filter(predicate) ?? []
            self.idle[key]?.removeAll(where: predicate)
        }
        return removed
    }
}
