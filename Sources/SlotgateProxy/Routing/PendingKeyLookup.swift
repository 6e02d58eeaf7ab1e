//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateRESP

/// A client command held back while the cluster says where its keys are.
///
/// For the few commands whose key specs Redis itself calls incomplete (`SORT … BY/GET/STORE`,
/// `MIGRATE … KEYS`), the proxy asks a master `COMMAND GETKEYS` with the same arguments and routes
/// by the answer, instead of guessing from a partial description.
final class PendingKeyLookup {
    let command: RESPCommand
    let replySlot: ReplySlot
    unowned let router: LoopRouter

    init(command: RESPCommand, replySlot: ReplySlot, router: LoopRouter) {
        self.command = command
        self.replySlot = replySlot
        self.router = router
    }
}
