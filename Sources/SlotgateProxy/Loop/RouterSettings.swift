//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateConfiguration
import SlotgateRESP

/// The part of the configuration the event loops' routers use: built at start, and again on a
/// reload or `PROXY CONFIG SET`, then handed to every router as a whole.
package struct RouterSettings: Sendable {
    /// MOVED/ASK redirects, and resends after a lost link, one command may take before its last
    /// error is returned (`TRYAGAIN`/`CLUSTERDOWN` retries are bounded by the failover hold instead).
    var maxRedirects: Int
    /// Limit on making a connection to a node.
    var connectTimeout: TimeAmount
    /// First wait before retrying after `TRYAGAIN` or `CLUSTERDOWN`; doubles each retry.
    var retryDelay: TimeAmount
    /// First wait before reconnecting to a node that refused a connection; doubles up to `maxReconnectDelay`.
    var reconnectDelay: TimeAmount
    var maxReconnectDelay: TimeAmount
    /// Checks client passwords (`requirepass`, `user` lines), or leaves them to the cluster
    /// (`acl-mode passthrough`).
    var authenticator: ClientAuthenticator
    /// How long a node link signed in as a client's user stays open with nothing to do
    /// (`passthrough-idle-timeout`).
    var passthroughIdleTimeout: TimeAmount
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
    /// Client-seen latency, in µs, from which a command enters the slow log; negative for none
    /// (`slowlog-log-slower-than`).
    var slowlogSlowerThan: Int64
    /// Most entries the slow log keeps per event loop (`slowlog-max-len`).
    var slowlogMaxLength: Int
    /// Keys the hot key table reports; 0 turns sampling off (`hotkeys`).
    var hotKeys: Int
    /// `maxclients`, `timeout` (seconds, 0 for none), `client-output-buffer-limit` and its
    /// `-pubsub` twin for subscribed clients (bytes, 0 for none) and `max-in-flight-per-node`
    /// (0 for none).
    var maxClients: Int
    var idleTimeout: Int
    var clientOutputBufferLimit: Int
    var clientOutputBufferLimitPubSub: Int
    var maxInFlightPerNode: Int
    /// Whether `CONFIG SET` goes to every node or is refused (`config-set-broadcast`).
    var configSetBroadcast: Bool
    /// Whether a transaction over several slots is refused or run slot by slot (`cross-slot-transactions`).
    var crossSlotTransactions: CrossSlotTransactions
    /// Failed `AUTH` attempts per client address and minute before they are refused (`auth-failure-limit`).
    var authFailureLimit: Int
}

extension RouterSettings {
    /// The routers' part of `configuration`.
    package init(_ configuration: ProxyConfiguration) {
        self.init(
            maxRedirects: configuration.maxRedirects,
            connectTimeout: TimeAmount(configuration.connectTimeout),
            retryDelay: .milliseconds(10),
            reconnectDelay: .milliseconds(50),
            maxReconnectDelay: .seconds(2),
            authenticator: ClientAuthenticator(
                requirePassword: configuration.requirePassword,
                users: configuration.users,
                checkedByCluster: configuration.aclMode == .passthrough
            ),
            passthroughIdleTimeout: .seconds(Int64(configuration.passthroughIdleTimeout)),
            nodeAuthCommand: configuration.clusterCredentials.map { arguments in
                var command = ByteBuffer()
                command.writeRESPCommand(arguments)
                return command
            },
            failoverHold: configuration.failoverHold.map(TimeAmount.init),
            electionAllowance: .seconds(5),
            holdByteBudget: configuration.failoverHoldMaxMemory / configuration.eventLoopThreads,
            requestTimeout: configuration.requestTimeout == .zero ? nil : TimeAmount(configuration.requestTimeout),
            readPolicy: configuration.readPolicy,
            slowlogSlowerThan: Int64(configuration.slowlogSlowerThan),
            slowlogMaxLength: configuration.slowlogMaxLength,
            hotKeys: configuration.hotKeys,
            maxClients: configuration.maxClients,
            idleTimeout: configuration.idleTimeout,
            clientOutputBufferLimit: configuration.clientOutputBufferLimit,
            clientOutputBufferLimitPubSub: configuration.clientOutputBufferLimitPubSub,
            maxInFlightPerNode: configuration.maxInFlightPerNode,
            configSetBroadcast: configuration.configSetBroadcast,
            crossSlotTransactions: configuration.crossSlotTransactions,
            authFailureLimit: configuration.authFailureLimit
        )
    }
}
