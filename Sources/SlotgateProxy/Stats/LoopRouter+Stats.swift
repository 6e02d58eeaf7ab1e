//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import FoundationEssentials
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
            name: { self.leadingArguments(of: request).name },
            commandClass: entry.commandClass,
            reply: reply,
            microseconds: microseconds
        )
        let threshold = self.settings.slowlogSlowerThan
        guard threshold >= 0, microseconds >= threshold else { return }
        let (name, firstArgument) = self.leadingArguments(of: request)
        let node =
            entry.commandClass == .routed
            ? firstArgument.flatMap { argument in
                self.master(for: argument.withUnsafeReadableBytes { HashSlot(key: $0) })
            } : nil
        self.stats.slowLog.add(
            SlowLog.Entry(
                id: 0,
                timestamp: Int(Date().timeIntervalSince1970),
                durationMicroseconds: microseconds,
                command: name,
                firstKey: firstArgument.map { String(decoding: $0.readableBytesView.prefix(64), as: UTF8.self) } ?? "",
                node: node.map(\.description) ?? "",
                client: client.remoteAddress
            ),
            maxLength: self.settings.slowlogMaxLength
        )
    }

    /// A request's lower-case name and first argument, read again from its bytes for the slow
    /// log and for names the catalog lacks, with the loop's own decoder (nothing allocated but
    /// the name).
    private func leadingArguments(of request: ByteBuffer) -> (name: String, firstArgument: ByteBuffer?) {
        var bytes = request
        guard let parsed = try? self.rereader.nextRequest(in: &bytes) else { return ("", nil) }
        let name = parsed.withArgument(0) { String(decoding: $0, as: UTF8.self) }.lowercased()
        return (name, parsed.argumentCount > 1 ? parsed.argument(1) : nil)
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
