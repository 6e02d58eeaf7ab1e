//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateCluster

/// The counters of one event loop, or of all of them added up: an immutable copy that may cross
/// to the admin port's thread.
struct StatsSnapshot: Sendable {
    var clientsConnected = 0
    var clientsAccepted = 0
    var clientsRejected = 0
    var bytesIn = 0
    var bytesOut = 0
    var commands: [String: LoopStats.CommandTally] = [:]
    var clientErrors: [String: Int] = [:]
    var events: [NodeEvent: Int] = [:]
    var latency: [CommandClass: LatencyHistogram] = [:]
    var nodes: [NodeAddress: Node] = [:]
    var slowLog: [SlowLog.Entry] = []
    var hotKeys: [String: Double] = [:]
    /// Requests waiting for an unreachable node now.
    var heldRequests = 0

    /// One node as the event loops see it.
    struct Node: Sendable {
        var requests = 0
        /// Requests sent and not answered yet.
        var inFlight = 0
        /// Open links to the node.
        var links = 0
        /// The node refused connections lately and is being retried.
        var unreachable = false
        var latency = LatencyHistogram()
    }

    init() {}

    /// Adds another loop's counters to these.
    mutating func add(_ other: StatsSnapshot) {
        self.clientsConnected += other.clientsConnected
        self.clientsAccepted += other.clientsAccepted
        self.clientsRejected += other.clientsRejected
        self.bytesIn += other.bytesIn
        self.bytesOut += other.bytesOut
        for (name, tally) in other.commands {
            self.commands[name, default: .init()].calls += tally.calls
            self.commands[name, default: .init()].errors += tally.errors
        }
        self.clientErrors.merge(other.clientErrors, uniquingKeysWith: +)
        self.events.merge(other.events, uniquingKeysWith: +)
        for (commandClass, histogram) in other.latency {
            self.latency[commandClass, default: LatencyHistogram()].add(histogram)
        }
        for (address, node) in other.nodes {
            var merged = self.nodes[address] ?? Node()
            merged.requests += node.requests
            merged.inFlight += node.inFlight
            merged.links += node.links
            merged.unreachable = merged.unreachable || node.unreachable
            merged.latency.add(node.latency)
            self.nodes[address] = merged
        }
        self.slowLog = (self.slowLog + other.slowLog).sorted { $0.id > $1.id }
        self.hotKeys.merge(other.hotKeys, uniquingKeysWith: +)
        self.heldRequests += other.heldRequests
    }

    /// The `count` keys with the highest sampled request counts, busiest first.
    func hottestKeys(_ count: Int) -> [(key: String, requests: Double)] {
        self.hotKeys.sorted { $0.value > $1.value }.prefix(count).map { ($0.key, $0.value) }
    }
}
