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
    /// Calls and error replies per command name.
    var commands: [String: CommandTally] = [:]
    /// Error replies to clients by their code (`ERR`, `CROSSSLOT`, `CLUSTERDOWN`, …).
    var clientErrors: [String: Int] = [:]
    /// What happened between Slotgate and the nodes: redirects followed, retries, failed links.
    var events: [NodeEvent: Int] = [:]
    /// Client-seen latency per command class.
    var latency: [CommandClass: LatencyHistogram] = [:]
    /// Round trips per node.
    var nodes: [NodeAddress: NodeStats] = [:]
    var slowLog = SlowLog()
    var hotKeys = HotKeySampler()

    /// Calls and error replies of one command.
    struct CommandTally: Sendable, Codable {
        var calls = 0
        var errors = 0
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

    /// Counts one reply leaving for a client: its command, its outcome and its latency. Commands
    /// the cluster does not know count as `unknown`.
    func answered(_ name: String, commandClass: CommandClass, reply: ByteBuffer, microseconds: Int64) {
        let isError = reply.readableBytes > 0 && reply.getInteger(at: reply.readerIndex, as: UInt8.self) == UInt8(ascii: "-")
        var counted = name.count > 32 ? String(name.prefix(32)) : name
        if isError && reply.readableBytesView.starts(with: Self.unknownCommandPrefix) {
            counted = "unknown"
        } else if self.commands[name] == nil && self.commands.count >= Self.maxCommandNames {
            counted = "other"
        }
        self.commands[counted, default: CommandTally()].calls += 1
        if isError {
            self.commands[counted]!.errors += 1
            let code = Self.errorCode(reply)
            let countedCode = self.clientErrors[code] == nil && self.clientErrors.count >= Self.maxErrorCodes ? "OTHER" : code
            self.clientErrors[countedCode, default: 0] += 1
        }
        self.latency[commandClass, default: LatencyHistogram()].record(microseconds: microseconds)
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
