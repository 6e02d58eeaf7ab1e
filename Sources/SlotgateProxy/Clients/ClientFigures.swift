//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// What `INFO` tells about Slotgate's own clients (`# Clients`, and the connection counters of
/// `# Stats`): each event loop counts its own, and the loops' figures are added up.
///
/// A cluster node knows only Slotgate's links, so these figures come from Slotgate: a client
/// blocked in `BLPOP` through Slotgate waits on some master, but it is Slotgate's client.
struct ClientFigures: Sendable {
    var connected = 0
    /// Waiting in a blocking command.
    var blocked = 0
    /// Subscribed to a channel, pattern or shard channel.
    var inPubSub = 0
    /// The most request bytes buffered for one client now.
    var largestInputBuffer = 0
    /// Since start or the last `CONFIG RESETSTAT`.
    var counters = ConnectionCounters()

    /// The figures of all loops together.
    static func total(_ loops: [ClientFigures]) -> ClientFigures {
        loops.reduce(into: ClientFigures()) { total, loop in
            total.connected += loop.connected
            total.blocked += loop.blocked
            total.inPubSub += loop.inPubSub
            total.largestInputBuffer = max(total.largestInputBuffer, loop.largestInputBuffer)
            total.counters = total.counters + loop.counters
        }
    }
}

/// Counters of an event loop that only grow (connections accepted and refused at `maxclients`,
/// bytes in and out), read from its ``LoopStats`` at once; `INFO` shows them counted from the
/// reading taken at the last `CONFIG RESETSTAT`.
struct ConnectionCounters: Sendable {
    var accepted = 0
    var rejected = 0
    var bytesIn = 0
    var bytesOut = 0

    static func + (left: ConnectionCounters, right: ConnectionCounters) -> ConnectionCounters {
        ConnectionCounters(
            accepted: left.accepted + right.accepted,
            rejected: left.rejected + right.rejected,
            bytesIn: left.bytesIn + right.bytesIn,
            bytesOut: left.bytesOut + right.bytesOut
        )
    }

    static func - (left: ConnectionCounters, right: ConnectionCounters) -> ConnectionCounters {
        ConnectionCounters(
            accepted: left.accepted - right.accepted,
            rejected: left.rejected - right.rejected,
            bytesIn: left.bytesIn - right.bytesIn,
            bytesOut: left.bytesOut - right.bytesOut
        )
    }
}

extension LoopStats {
    /// The counters as they stand now.
    var connectionCounters: ConnectionCounters {
        ConnectionCounters(accepted: self.clientsAccepted, rejected: self.clientsRejected, bytesIn: self.bytesIn, bytesOut: self.bytesOut)
    }
}
