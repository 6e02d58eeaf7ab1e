//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateRESP

/// One event loop's clients: who is connected, whether one more may connect (`maxclients`, across
/// all loops), and the per-client limits checked once a second. Commands about every client
/// (`CLIENT LIST`, `CLIENT KILL`, `CLIENT UNBLOCK`, `INFO`'s figures) ask each loop's registry.
///
/// A session is in the registry exactly while it is counted in `maxclients`.
final class LoopClients {
    private unowned(unsafe) let loop: ProxyLoop
    private var sessions: [ObjectIdentifier: ClientSession] = [:]
    /// The connection and byte counters when `CONFIG RESETSTAT` last ran, which `INFO` counts from.
    private var countersAtReset = ConnectionCounters()

    init(loop: ProxyLoop) {
        self.loop = loop
    }

    /// Counts a new client in and registers it, unless `maxclients` are connected already.
    func admit(_ session: ClientSession) -> Bool {
        guard self.loop.shared.connectedClients.acquire(limit: self.loop.settings.maxClients) else {
            self.loop.stats.clientsRejected += 1
            return false
        }
        self.sessions[ObjectIdentifier(session)] = session
        self.loop.stats.clientsConnected += 1
        self.loop.stats.clientsAccepted += 1
        return true
    }

    /// A client's connection is gone: if it was admitted, it no longer counts.
    func leave(_ session: ClientSession) {
        guard self.sessions.removeValue(forKey: ObjectIdentifier(session)) != nil else { return }
        self.loop.stats.clientsConnected -= 1
        self.loop.shared.connectedClients.release()
    }

    /// `CLIENT INFO` lines of this loop's clients.
    func lines() -> [String] {
        self.sessions.values.map(\.infoLine)
    }

    /// Shutting down: every client stops being read and is closed once its replies are out.
    /// Returns how many clients are still owed replies.
    func drain() -> Int {
        for session in self.sessions.values { session.drain() }
        return self.sessions.values.count { !$0.line.isEmpty }
    }

    /// Closes this loop's clients that `filter` names; returns how many.
    func kill(_ filter: ClientFilter) -> Int {
        let doomed = self.sessions.values.filter { filter.matches(id: $0.clientID, address: $0.remoteAddress) }
        for session in doomed { session.close() }
        return doomed.count
    }

    /// `CLIENT UNBLOCK`: has the node that holds the blocked command of this loop's client `id`
    /// unblock it (`mode` `TIMEOUT` or `ERROR`); the node's answer to that command then reaches
    /// the client as usual. 1 when the client waits in a blocking command here, else 0.
    func unblock(id: Int, mode: String) -> Int {
        guard let session = self.sessions.values.first(where: { $0.clientID == id }), let link = session.blockingLink,
            let nodeID = link.nodeClientID
        else { return 0 }
        var wire = ByteBuffer()
        wire.writeRESPCommand(["CLIENT", "UNBLOCK", String(nodeID), mode])
        self.loop.router.send(RoutedRequest(wire: wire, slot: nil, target: .discard), to: link.address)
        self.loop.flush.schedule()
        return 1
    }

    /// This loop's clients, and its counters since the last `CONFIG RESETSTAT`, for `INFO`.
    func figures() -> ClientFigures {
        var figures = ClientFigures()
        for session in self.sessions.values {
            figures.connected += 1
            figures.blocked += session.blockingLink != nil ? 1 : 0
            figures.inPubSub += session.subscriptions?.isSubscribed == true ? 1 : 0
            figures.largestInputBuffer = max(figures.largestInputBuffer, session.input.bufferedBytes)
        }
        figures.counters = self.loop.stats.connectionCounters - self.countersAtReset
        return figures
    }

    /// `CONFIG RESETSTAT`: `INFO` counts connections and bytes from now on. (The admin port's
    /// counters keep counting from the start, as metrics must.)
    func resetCounters() {
        self.countersAtReset = self.loop.stats.connectionCounters
    }

    /// Once a second: the idle `timeout`, output buffer limits and transaction links' request
    /// timeout of every client (see `ClientSession+Limits`).
    func enforceLimits(now: NIODeadline) {
        for session in self.sessions.values {
            session.enforceLimits(now: now, idleTimeout: self.loop.settings.idleTimeout)
        }
    }
}

@available(*, unavailable)
extension LoopClients: Sendable {}
