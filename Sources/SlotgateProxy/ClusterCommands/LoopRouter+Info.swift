//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateRESP

/// `INFO` for the whole service: the masters' reports merged (see ``InfoMerge``), with the
/// figures about clients taken from every loop of Slotgate.
extension LoopRouter {
    /// Gathers every loop's ``ClientFigures``, then asks every master for `INFO` and merges; a
    /// full report starts with a section about Slotgate.
    func info(_ command: RESPCommand, replySlot: ReplySlot, view: ClusterView) {
        let sections = command.arguments.dropFirst().map { String(buffer: $0).lowercased() }
        let full = sections.isEmpty || sections.contains { ["all", "everything", "default", "slotgate"].contains($0) }
        let proxySection =
            full
            ? [
                "slotgate_version:\(SlotgateInfo.version)", "announced_address:\(self.identity.announcedAddress)",
                "cluster_masters:\(view.slotMap.shards.count)", "slot_map_version:\(view.version)",
            ] : nil
        let wire = command.wire
        self.directory.gather(on: self.eventLoop) { $0.clientFigures() }.assumeIsolated().whenComplete { result in
            let service = ServiceFigures(clients: ClientFigures.total((try? result.get()) ?? []), maxClients: self.settings.maxClients)
            self.broadcast(wire, merge: .info(proxySection: proxySection, service: service), replySlot: replySlot, view: self.view ?? view)
            self.scheduleFlush()
        }
    }

    /// This loop's clients, and its counters since the last `CONFIG RESETSTAT`.
    func clientFigures() -> ClientFigures {
        var figures = ClientFigures()
        for session in self.sessions.values {
            figures.connected += 1
            figures.blocked += session.blockingLink != nil ? 1 : 0
            figures.inPubSub += session.subscriptions?.isSubscribed == true ? 1 : 0
            figures.largestInputBuffer = max(figures.largestInputBuffer, session.input.bufferedBytes)
        }
        figures.counters = self.stats.connectionCounters - self.countersAtReset
        return figures
    }

    /// `CONFIG RESETSTAT`: `INFO` counts connections and bytes from now on. (The admin port's
    /// counters keep counting from the start, as metrics must.)
    func resetClientCounters() {
        self.countersAtReset = self.stats.connectionCounters
    }
}

/// What Slotgate knows about the service as a whole, for the sections of `INFO` it writes itself.
struct ServiceFigures: Sendable {
    let clients: ClientFigures
    /// `maxclients`.
    let maxClients: Int
}
