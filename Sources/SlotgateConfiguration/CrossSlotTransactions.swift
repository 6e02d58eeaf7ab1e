//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// What Slotgate does with a transaction whose keys are in more than one slot
/// (`cross-slot-transactions`).
///
/// Redis Cluster runs a transaction on one node, so such a transaction cannot be atomic as a
/// whole. Job queues (RQ, arq) send them anyway, with fixed key names; `per-slot` lets them run,
/// atomic slot by slot, with each slot's outcome reported in `EXEC`'s reply.
public enum CrossSlotTransactions: String, Sendable, CaseIterable {
    /// The transaction is refused with `-CROSSSLOT`, as a cluster node would refuse it.
    case refuse
    /// Slotgate queues the commands itself and runs each slot's share as its own `MULTI`…`EXEC`
    /// on the slot's master (see `ClientSession+CrossSlotTransaction`).
    case perSlot = "per-slot"
}
