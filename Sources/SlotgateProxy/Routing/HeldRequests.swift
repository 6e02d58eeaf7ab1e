//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster

/// Requests waiting for a node that cannot be reached: the failover hold.
///
/// When a master dies, the cluster needs its node timeout plus an election to promote a replica.
/// Requests for the dead master's slots wait here meanwhile instead of failing. Each new slot map,
/// and each tick on which one of their nodes may be tried again (or a hold ran out), sends them
/// on in the order they came. The bytes
/// held are capped so that a long outage cannot eat the proxy's memory: past the cap, requests fail
/// at once.
struct HeldRequests {
    /// A held request and the node it was meant for.
    struct Entry {
        var request: RoutedRequest
        var node: NodeAddress
    }

    private var entries = CircularBuffer<Entry>()
    private var countByNode: [NodeAddress: Int] = [:]
    /// The soonest any held request's hold runs out.
    private(set) var earliestDeadline: NIODeadline?
    private var heldBytes = 0
    /// Most request bytes held at once.
    let byteBudget: Int

    init(byteBudget: Int) {
        self.byteBudget = byteBudget
    }

    var isEmpty: Bool { self.entries.isEmpty }

    /// How many requests wait.
    var count: Int { self.entries.count }

    /// The nodes requests wait for.
    var nodes: Dictionary<NodeAddress, Int>.Keys { self.countByNode.keys }

    /// Whether requests for `node` are waiting; later ones must wait behind them to keep their order.
    func isHolding(for node: NodeAddress) -> Bool {
        self.countByNode[node, default: 0] > 0
    }

    /// Holds `request` for `node`; `false` when the budget has no room for it.
    mutating func hold(_ request: RoutedRequest, for node: NodeAddress) -> Bool {
        let size = request.wire.readableBytes
        guard self.heldBytes + size <= self.byteBudget else { return false }
        self.heldBytes += size
        self.countByNode[node, default: 0] += 1
        self.entries.append(Entry(request: request, node: node))
        if let deadline = request.holdDeadline {
            self.earliestDeadline = min(self.earliestDeadline ?? deadline, deadline)
        }
        return true
    }

    /// Hands back every held request, oldest first, and holds none.
    mutating func releaseAll() -> CircularBuffer<Entry> {
        let released = self.entries
        self.entries.removeAll(keepingCapacity: true)
        self.countByNode.removeAll(keepingCapacity: true)
        self.heldBytes = 0
        self.earliestDeadline = nil
        return released
    }
}
