//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster

/// What one event loop counted since the proxy started.
///
/// Plain numbers, touched only on the loop that owns them, so counting costs no atomics or locks
/// on the hot path. The admin port asks every loop for a ``StatsSnapshot`` and adds them up.
final class LoopStats {
    var clientsConnected = 0
    var clientsAccepted = 0
    var clientsRejected = 0
    var bytesIn = 0
    var bytesOut = 0
    /// Calls and error replies per command the catalog knows, by its stat index: counting is an
    /// array increment, not a dictionary lookup by name.
    private var tallies: [CommandTally] = []
    /// The names of `tallies`, in the same order.
    private var tallyNames: [String] = []
    /// Calls and error replies counted by name: commands the catalog does not know (before the
    /// first view, unknown ones) and the tallies of catalogs replaced since.
    private var talliesByName: [String: CommandTally] = [:]
    /// Error replies to clients by their code (`ERR`, `CROSSSLOT`, `CLUSTERDOWN`, …).
    var clientErrors: [String: Int] = [:]
    /// What happened between Slotgate and the nodes: redirects followed, retries, failed links.
    var events: [NodeEvent: Int] = [:]
    /// Client-seen latency per command class, by the class's place in `CommandClass.allCases`;
    /// made on first use.
    private var latencyByClass = [LatencyHistogram?](repeating: nil, count: CommandClass.allCases.count)
    /// Round trips per node.
    var nodes: [NodeAddress: NodeStats] = [:]
    var slowLog = SlowLog()
    var hotKeys = HotKeySampler()

    /// Calls and error replies of one command.
    struct CommandTally: Sendable, Codable, Equatable {
        var calls = 0
        var errors = 0

        mutating func add(isError: Bool) {
            self.calls += 1
            if isError { self.errors += 1 }
        }
    }

    /// The round trip statistics of `node`, kept for as long as the proxy runs.
    func node(_ node: NodeAddress) -> NodeStats {
        if let known = self.nodes[node] { return known }
        let created = NodeStats()
        self.nodes[node] = created
        return created
    }

    func count(_ event: NodeEvent, _ amount: Int = 1) {
        self.events[event, default: 0] += amount
    }

    /// Most command names counted apart; the rest count as `other`, and names are cut to 32
    /// characters, so that clients sending made-up names cannot grow the table (or the metrics'
    /// label set) without bound.
    static let maxCommandNames = 400
    /// The same for error codes, which scripts can make up too.
    static let maxErrorCodes = 100

    /// Counts commands by the stat indexes of `catalog` from now on.
    func useCatalog(_ catalog: CommandCatalog) {
        self.talliesByName = self.commands
        self.tallyNames = catalog.entries.map(\.spec.name)
        self.tallies = Array(repeating: CommandTally(), count: self.tallyNames.count)
    }

    /// The name of the command counted at `statIndex`, while the catalog that gave the index is
    /// in use.
    func commandName(statIndex: Int) -> String? {
        self.tallyNames.indices.contains(statIndex) ? self.tallyNames[statIndex] : nil
    }

    /// Calls and error replies per command name.
    var commands: [String: CommandTally] {
        var all = self.talliesByName
        for (name, tally) in zip(self.tallyNames, self.tallies) where tally.calls > 0 {
            all[name, default: CommandTally()].calls += tally.calls
            all[name, default: CommandTally()].errors += tally.errors
        }
        return all
    }

    /// Counts one reply leaving for a client: its command (by stat index, or by `name` when the
    /// index is -1), its outcome and its latency. Commands the cluster does not know count as
    /// `unknown`.
    func answered(statIndex: Int, name: () -> String, commandClass: CommandClass, reply: ByteBuffer, microseconds: Int64) {
        let isError = reply.readableBytes > 0 && reply.getInteger(at: reply.readerIndex, as: UInt8.self) == UInt8(ascii: "-")
        if isError && reply.readableBytesView.starts(with: Self.unknownCommandPrefix) {
            self.talliesByName["unknown", default: CommandTally()].add(isError: true)
        } else if statIndex >= 0 && statIndex < self.tallies.count {
            self.tallies[statIndex].add(isError: isError)
        } else {
            let name = name()
            let counted = self.talliesByName[name] == nil && self.talliesByName.count >= Self.maxCommandNames ? "other" : String(name.prefix(32))
            self.talliesByName[counted, default: CommandTally()].add(isError: isError)
        }
        if isError {
            let code = Self.errorCode(reply)
            let countedCode = self.clientErrors[code] == nil && self.clientErrors.count >= Self.maxErrorCodes ? "OTHER" : code
            self.clientErrors[countedCode, default: 0] += 1
        }
        let classIndex = commandClass.index
        if self.latencyByClass[classIndex] == nil {
            self.latencyByClass[classIndex] = LatencyHistogram()
        }
        self.latencyByClass[classIndex]!.record(microseconds: microseconds)
    }

    /// Client-seen latency per command class.
    var latency: [CommandClass: LatencyHistogram] {
        var all: [CommandClass: LatencyHistogram] = [:]
        for (commandClass, histogram) in zip(CommandClass.allCases, self.latencyByClass) where histogram != nil {
            all[commandClass] = histogram
        }
        return all
    }

    private static let unknownCommandPrefix = Array("-ERR unknown command".utf8)

    /// The first word of an error reply, `-CODE message`.
    private static func errorCode(_ reply: ByteBuffer) -> String {
        let view = reply.readableBytesView.dropFirst()
        let end = view.firstIndex { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") } ?? view.endIndex
        return String(decoding: view[view.startIndex..<min(end, view.startIndex + 32)], as: UTF8.self)
    }
}

/// One node's round trips from one event loop.
final class NodeStats {
    var requests = 0
    var latency = LatencyHistogram()
}

/// Things that happen between Slotgate and the nodes, counted for operators.
public enum NodeEvent: String, Sendable, CaseIterable, Codable {
    case moved, ask, tryagain, clusterdown
    /// A link dropped with requests in flight.
    case linkLost = "link_lost"
    /// A node did not answer within `request-timeout`.
    case timeout
    /// A connection to a node could not be made.
    case connectFailed = "connect_failed"
    /// A request waited out `failover-hold`.
    case holdExpired = "hold_expired"
    /// A request was held for an unreachable node.
    case held
}
