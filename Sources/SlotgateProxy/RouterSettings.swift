//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore

/// The part of the configuration the event loops' routers use, fixed when the proxy starts.
struct RouterSettings: Sendable {
    /// Redirects and retries one command may take before its last error is returned.
    var maxRedirects: Int
    /// Limit on making a connection to a node.
    var connectTimeout: TimeAmount
    /// First wait before retrying after `TRYAGAIN` or `CLUSTERDOWN`; doubles each retry.
    var retryDelay: TimeAmount
    /// First wait before reconnecting to a node that refused a connection; doubles up to `maxReconnectDelay`.
    var reconnectDelay: TimeAmount
    var maxReconnectDelay: TimeAmount
    /// Checks client passwords (`requirepass`).
    var authenticator: ClientAuthenticator
    /// `AUTH` sent first on every node link (`cluster-user`, `cluster-password`); `nil` for none.
    var nodeAuthCommand: ByteBuffer?
    /// How long requests wait for an unreachable master to be replaced (`failover-hold`); `nil`
    /// means the cluster's node timeout plus `electionAllowance`.
    var failoverHold: TimeAmount?
    var electionAllowance: TimeAmount
    /// Most request bytes one loop holds for a failover (its share of `failover-hold-max-memory`).
    var holdByteBudget: Int
    /// Longest a node may leave a request unanswered before its link is given up (`request-timeout`);
    /// `nil` for no limit.
    var requestTimeout: TimeAmount?
    /// Where read-only commands go (`read-from`).
    var readPolicy: ReadPolicy
}
