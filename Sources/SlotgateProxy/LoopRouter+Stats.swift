//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import NIOCore
import SlotgateCluster
import SlotgateRESP

/// Counting for the admin port: every reply that leaves for a client, the slow log, and a
/// snapshot of the loop's counters and links on request.
extension LoopRouter {
    /// The reply to the command in `entry` (whose bytes are `request`) left for `client`.
    func answered(_ entry: ReplyLine.Entry, request: ByteBuffer, reply: ByteBuffer, client: ClientSession) {
        let microseconds = (self.now - entry.startedAt).nanoseconds / 1000
        self.stats.answered(
            statIndex: Int(entry.statIndex),
            name: { Self.decode(request)?.lowercasedName ?? "" },
            commandClass: entry.commandClass,
            reply: reply,
            microseconds: microseconds
        )
        let threshold = self.settings.slowlogSlowerThan
        guard threshold >= 0, microseconds >= threshold, let command = Self.decode(request) else { return }
        let firstArgument = command.arguments.count > 1 ? command.arguments[1] : nil
        let node = firstArgument.flatMap { argument in self.master(for: argument.withUnsafeReadableBytes { HashSlot(key: $0) }) }
        self.stats.slowLog.add(
            SlowLog.Entry(
                id: 0,
                timestamp: Int(Date().timeIntervalSince1970),
                durationMicroseconds: microseconds,
                command: command.lowercasedName,
                firstKey: firstArgument.map { String(decoding: $0.readableBytesView.prefix(64), as: UTF8.self) } ?? "",
                node: entry.commandClass == .routed ? node.map(\.description) ?? "" : "",
                client: client.remoteAddress
            ),
            maxLength: self.settings.slowlogMaxLength
        )
    }

    /// A request's bytes as a command again, for the slow log and for names the catalog lacks.
    private static func decode(_ request: ByteBuffer) -> RESPCommand? {
        var bytes = request
        var decoder = RESPRequestDecoder()
        return try? decoder.decode(buffer: &bytes)
    }

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
        for link in self.links.values {
            snapshot.nodes[link.address, default: StatsSnapshot.Node()].inFlight += link.inFlightCount
            snapshot.nodes[link.address, default: StatsSnapshot.Node()].links += 1
        }
        for node in self.reconnectBackoff.keys where self.isBackingOff(from: node) || self.held.isHolding(for: node) {
            snapshot.nodes[node, default: StatsSnapshot.Node()].unreachable = true
        }
        snapshot.slowLog = self.stats.slowLog.entries
        snapshot.hotKeys = self.stats.hotKeys.counts
        snapshot.heldRequests = self.held.count
        return snapshot
    }

    /// Takes new settings (a reload, `PROXY CONFIG SET`); held requests keep their deadlines.
    func apply(_ settings: RouterSettings) {
        self.settings = settings
    }

    /// Forgets the slow log (`PROXY SLOWLOG RESET`).
    func resetSlowLog() {
        self.stats.slowLog.reset()
    }
}
