//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// What the admin port reads from a loop: its counters, links and held requests as one value.
extension ProxyLoop {
    /// This loop's counters, links and held requests, as a value for the admin port.
    func snapshot() -> StatsSnapshot {
        var snapshot = StatsSnapshot()
        snapshot.clientsConnected = self.stats.clientsConnected
        snapshot.clientsAccepted = self.stats.clientsAccepted
        snapshot.clientsRejected = self.stats.clientsRejected
        snapshot.bytesIn = self.stats.bytesIn
        snapshot.bytesOut = self.stats.bytesOut
        snapshot.commands = self.stats.commands
        snapshot.clientErrors = self.stats.clientErrors
        snapshot.events = self.stats.events
        snapshot.latency = self.stats.latency
        for (address, node) in self.stats.nodes {
            snapshot.nodes[address] = StatsSnapshot.Node(requests: node.requests, latency: node.latency)
        }
        for link in self.links.shared.values {
            snapshot.nodes[link.address, default: StatsSnapshot.Node()].inFlight += link.inFlightCount
            snapshot.nodes[link.address, default: StatsSnapshot.Node()].links += 1
        }
        for node in self.links.backoff.keys where self.links.isBackingOff(from: node) || self.hold.isHolding(for: node) {
            snapshot.nodes[node, default: StatsSnapshot.Node()].unreachable = true
        }
        snapshot.slowLog = self.stats.slowLog.entries
        snapshot.hotKeys = self.stats.hotKeys.counts
        snapshot.heldRequests = self.hold.heldCount
        return snapshot
    }

    /// Forgets the slow log (`PROXY SLOWLOG RESET`).
    func resetSlowLog() {
        self.stats.slowLog.reset()
    }
}
