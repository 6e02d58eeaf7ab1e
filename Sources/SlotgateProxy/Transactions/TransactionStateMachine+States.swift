//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateRESP

/// What a transaction's states hold (see ``TransactionStateMachine/State``): its node, the queue
/// between `MULTI` and `EXEC`, the end in progress, and why a broken one broke.
extension TransactionStateMachine {
    /// The transaction's node: the client's own link to the master of `slot`, and what went on it.
    struct Node {
        var link: Link
        /// The slot every key must be in; `nil` when only keyless commands picked the node.
        var slot: HashSlot?
        /// Everything sent on the link since `MULTI`, in order, while the transaction can still move
        /// to another node as a whole; `nil` once it cannot (it began with `WATCH`, whose watch
        /// would not move with it).
        var replayable: [RoutedRequest]?
        /// Replies the link has given for `replayable`'s requests so far.
        var repliesSeen = 0
        /// Times the transaction moved to another node.
        var moves = 0
    }

    /// Between `MULTI` and `EXEC`/`DISCARD`.
    struct Queue {
        /// `nil` until a key names the node: `MULTI` was answered by Slotgate and waits, with the
        /// keyless commands in `deferred`, to be sent once the link exists.
        var node: Node?
        /// Commands queued (and answered `+QUEUED` by Slotgate) before the link existed.
        var deferred: [RESPCommand] = []
        /// A queued command was refused (wrong arguments, keys in another slot): `EXEC` aborts.
        var aborted = false
        /// Commands queued since `MULTI` (`multi` in `CLIENT LIST`).
        var queued = 0
        /// The transaction began with `WATCH`.
        var watched: Bool
        /// Under `cross-slot-transactions per-slot`: the commands by slot.
        var perSlot: PerSlotQueue?
    }

    /// `EXEC`, `DISCARD` or `UNWATCH` was sent; the transaction ends with its reply (and, for a
    /// per-slot `EXEC`, every slot group's), and what the client sends meanwhile waits for that.
    struct Ending {
        var node: Node?
        /// The per-slot `EXEC` in progress.
        var exec: CrossSlotExec?
        /// The commands queued, when it ends a `MULTI` (`nil` for `UNWATCH`).
        var queued: Int?
    }

    /// The link dropped before the end: the node has forgotten the transaction.
    struct Broken {
        var reason: String
        /// The commands queued, while in `MULTI`.
        var queued: Int?
    }
}
