//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateConfiguration
import SlotgateRESP

/// Transactions over several slots (`cross-slot-transactions per-slot`): the commands for slots
/// other than the transaction link's wait in Slotgate (``PerSlotQueue``), and `EXEC` runs each
/// slot's share as its own `MULTI`…`EXEC` on its master (``CrossSlotExec``).
extension ClientSession {
    /// Between `MULTI` and `EXEC` under `per-slot`: keeps a command for a slot other than the
    /// link's, answering `+QUEUED` or the error Redis gives at queue time, and splits a multi-key
    /// command over several slots into its slots' groups. `false` for a command that goes on the
    /// transaction's link as usual: one in the link's slot, one without keys, or the first keyed
    /// command, which picks the link's slot.
    func queueBySlot(_ command: RESPCommand, spec: CommandSpec, keys: KeySlots, replySlot: ReplySlot) -> Bool {
        let role = CommandRole.of(spec.name)
        let split: (merge: CommandRole.SplitMerge, keyStep: Int)?
        if case .split(let merge, let keyStep) = role { split = (merge, keyStep) } else { split = nil }
        switch self.transaction.perSlotStep(slot: keys.slot, spansSlots: keys.spansSlots, splits: split != nil) {
        case .onLink:
            return false
        case .split:
            self.queueSplit(command, spec: spec, merge: split!.merge, keyStep: split!.keyStep, replySlot: replySlot)
        case .keep(let slot):
            guard !spec.flags.contains("no_multi") else {
                self.refuseQueued(replySlot, ProxyErrors.notAllowedInTransaction)
                return true
            }
            self.transaction.keep(command.wire, for: slot)
            replySlot.fill(ProxyReplies.queued)
        }
        return true
    }

    /// A multi-key command whose keys span slots (`DEL`, `MSET`, …): one part per slot, each in its
    /// slot's group (or on the link, for the link's slot); `EXEC` merges the parts' replies.
    private func queueSplit(_ command: RESPCommand, spec: CommandSpec, merge: CommandRole.SplitMerge, keyStep: Int, replySlot: ReplySlot) {
        let splitter = self.loop.clusterCommands!
        guard let partCount = splitter.splitter.groupKeys(of: command, keyStep: keyStep) else {
            self.refuseQueued(replySlot, ProxyErrors.arity(spec.name))
            return
        }
        let encoded = splitter.splitter.encodeParts(of: command, wireLength: command.wire.readableBytes, keyStep: keyStep)
        let parts = (0..<partCount).map { (wire: splitter.splitter.partWire($0, in: encoded), slot: splitter.splitter.partSlots[$0]) }
        for (link, request) in self.transaction.queueSplit(parts, merge: splitter.splitter.replyMerge(merge)) {
            link.send(request)
        }
        replySlot.fill(ProxyReplies.queued)
    }

    /// The error for a command whose keys are not in the transaction's slot, when Slotgate will not
    /// run it: it names the directive that would, where that directive would.
    func crossSlotRefusal(spec: CommandSpec, keys: KeySlots, inMulti: Bool) -> String {
        if !inMulti {
            return self.loop.settings.crossSlotTransactions == .perSlot ? ProxyErrors.watchAcrossSlots : ProxyErrors.crossSlot
        }
        let splits: Bool
        if case .split = CommandRole.of(spec.name) { splits = true } else { splits = false }
        return keys.spansSlots && !splits ? ProxyErrors.crossSlot : ProxyErrors.crossSlotTransaction
    }

    /// `EXEC` of a transaction with commands for other slots: the link's own `EXEC` goes out now,
    /// the other groups when ``CrossSlotExec/begin()`` runs (at once, or after the link's commit
    /// when the transaction began with `WATCH`). Parks the `EXEC`, before anything is sent, while
    /// a group's master is known to be down.
    func execBySlot(_ command: RESPCommand, queue: PerSlotQueue, replySlot: ReplySlot) {
        var masters: [NodeAddress?] = []
        for group in queue.otherGroups {
            let master = self.router.master(for: group.slot)
            if let master, self.parkIfUnreachable(master) { return }
            masters.append(master)
        }
        if self.transaction.awaitsNodeForKeylessCommands {
            // Commands without keys were queued before any slot was named: any master runs them.
            guard self.openLink(for: nil, failing: replySlot) else { return }
        }
        let link = self.transaction.link
        let exec = CrossSlotExec(
            replySlot: replySlot,
            queue: queue,
            masters: masters,
            link: link.map { ($0.address, self.transaction.slot) },
            linkGroupFirst: self.transaction.watched,
            session: self
        )
        if let (link, slot) = self.transaction.endBySlot(exec) {
            link.send(RoutedRequest(wire: command.wire, slot: slot, target: .slotGroup(SlotGroupRun(exec: exec, group: 0, link: nil, requests: 1))))
        }
        exec.begin()
    }

    /// Sends every group but the link's, each as `MULTI`, its commands, `EXEC`, on a link of the
    /// client's own to the group's master.
    func sendSlotGroups(of exec: CrossSlotExec) {
        for (index, group) in exec.queue.otherGroups.enumerated() {
            let number = index + 1
            guard let master = exec.masters[index] else {
                exec.groupDone(number, exec.failure(ofGroup: number, mayHaveRun: false, reason: ProxyErrors.slotNotServed))
                continue
            }
            guard let link = exec.link(to: master, opening: { self.openExclusiveLink(to: master) }) else {
                let reason = ProxyErrors.exclusiveLinksExhausted(self.loop.shared.exclusiveLinks)
                exec.groupDone(number, exec.failure(ofGroup: number, mayHaveRun: false, reason: reason))
                continue
            }
            let run = SlotGroupRun(exec: exec, group: number, link: link, requests: group.commands.count + 2)
            link.send(RoutedRequest(wire: ProxyReplies.multiCommand, slot: group.slot, target: .slotGroup(run)))
            for wire in group.commands {
                link.send(RoutedRequest(wire: wire, slot: group.slot, target: .slotGroup(run)))
            }
            link.send(RoutedRequest(wire: ProxyReplies.execCommand, slot: group.slot, target: .slotGroup(run)))
        }
    }
}
