//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// Which node serves read-only commands (`read-from`). Writes always go to the master.
///
/// Replicas take read load off the masters at the price of reads that may lag a little behind
/// the last write. Only replicas the topology monitor found healthy (online, lag within
/// `replica-max-lag`) and that accept connections are chosen.
public enum ReadPolicy: String, Sendable, CaseIterable {
    /// Every command goes to the master: reads always see the latest write.
    case master
    /// Reads go to a healthy replica of the slot's shard, or to the master when none is healthy.
    case preferReplica = "prefer-replica"
    /// Reads go to replicas only: a healthy one, else one that lags; the master serves them only
    /// when the shard has no reachable replica at all.
    case replica
    /// Reads go to whichever healthy node of the shard, master included, answered fastest.
    case nearest
}
