//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateCluster
import SlotgateRESP

/// Where a client is in a transaction, from its first `WATCH` or `MULTI` to `EXEC`, `DISCARD`
/// or `UNWATCH`.
///
/// A transaction runs on one node, on a link the client has to itself, chosen by the slot of the
/// first key it names. Until a key names the node, Slotgate answers `MULTI` and the keyless
/// commands after it itself, and they wait here, to be sent behind `MULTI` once the link exists.
struct TransactionState {
    /// Between `MULTI` and `EXEC`/`DISCARD`.
    var inMulti = false
    /// The slot every key of the transaction must be in, once known.
    var slot: HashSlot?
    /// The client's own link to the slot's master, once open.
    var link: NodeLink?
    /// `MULTI` was answered by Slotgate and still has to be sent to the node.
    var multiPending = false
    /// Commands queued (and answered `+QUEUED` by Slotgate) before the link existed.
    var deferred: [RESPCommand] = []
    /// A queued command was refused (wrong arguments, keys in another slot): `EXEC` must abort.
    var aborted = false
    /// Why the transaction can no longer run, e.g. its link dropped.
    var broken: String?
    /// `EXEC`, `DISCARD` or `UNWATCH` was sent; the transaction ends with its reply, and what the
    /// client sends meanwhile waits for that (see `ClientSession.holdsCommands`).
    var ending = false
    /// Everything sent on the link since `MULTI`, in order, while the transaction can still move
    /// to another node as a whole; `nil` once it cannot (it began with `WATCH`, whose watch would
    /// not move with it). A redirect inside `MULTI` means nothing has run, so all of it is sent
    /// again to the node the redirect names.
    var replayable: [RoutedRequest]?
    /// Replies the link has given for `replayable`'s requests so far.
    var repliesSeen = 0
    /// Times the transaction moved to another node.
    var moves = 0
    /// Commands queued since `MULTI` (`multi` in `CLIENT LIST`).
    var queuedCount = 0
    /// The transaction's keys were `WATCH`ed on `link`.
    var watching = false
    /// Under `cross-slot-transactions per-slot`, from `MULTI` on: the commands by slot.
    var perSlot: PerSlotQueue?
    /// The per-slot `EXEC` in progress.
    var crossSlotExec: CrossSlotExec?

    /// Sends `request` on the transaction's link, remembering it while the transaction may move.
    mutating func send(_ request: RoutedRequest) {
        self.replayable?.append(request)
        self.link?.send(request)
    }
}
