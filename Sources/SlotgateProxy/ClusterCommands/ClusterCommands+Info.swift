//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateRESP

/// `INFO` for the whole service: the masters' reports merged (see ``InfoMerge``), with the
/// figures about clients taken from every loop of Slotgate.
extension ClusterCommands {
    /// Gathers every loop's ``ClientFigures``, then asks every master for `INFO` and merges; a
    /// full report starts with a section about Slotgate.
    func info(_ command: RESPCommand, replySlot: ReplySlot, view: ClusterView) {
        let sections = command.arguments.dropFirst().map { String(buffer: $0).lowercased() }
        let full = sections.isEmpty || sections.contains { ["all", "everything", "default", "slotgate"].contains($0) }
        let proxySection =
            full
            ? [
                "slotgate_version:\(SlotgateInfo.version)", "announced_address:\(self.loop.shared.identity.announcedAddress)",
                "cluster_masters:\(view.slotMap.shards.count)", "slot_map_version:\(view.version)",
            ] : nil
        let wire = command.wire
        let loop = self.loop
        loop.shared.directory.gather(on: loop.eventLoop) { $0.clients.figures() }.assumeIsolated().whenComplete { result in
            let service = ServiceFigures(clients: ClientFigures.total((try? result.get()) ?? []), maxClients: loop.settings.maxClients)
            self.broadcast(wire, merge: .info(proxySection: proxySection, service: service), replySlot: replySlot, view: loop.router.view ?? view)
            loop.flush.schedule()
        }
    }
}

/// What Slotgate knows about the service as a whole, for the sections of `INFO` it writes itself.
struct ServiceFigures: Sendable {
    let clients: ClientFigures
    /// `maxclients`.
    let maxClients: Int
}
