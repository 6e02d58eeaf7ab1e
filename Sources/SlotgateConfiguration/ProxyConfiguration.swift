//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Logging
import NIOCore
import SlotgateACL
import SlotgateCluster

/// Everything that can be configured, as one value with every default spelled out here.
///
/// The file format (`proxy.conf`, see `ProxyConfiguration+File.swift`) and the command line both
/// produce this value; `proxy.conf.example` documents each directive with the same defaults.
public struct ProxyConfiguration: Sendable, Equatable {
    /// Address the client port listens on (`bind`).
    public var bind: String
    /// The client port (`port`).
    public var port: Int
    /// Cluster nodes to discover the topology from (`cluster`, repeatable).
    public var seeds: [NodeAddress]
    /// Event loop threads; each serves its clients with its own node links (`threads`); 0 means
    /// one per core (see ``eventLoopThreads``).
    public var threads: Int
    /// Least severe log level written (`log-level`).
    public var logLevel: Logger.Level
    /// Time between topology refreshes when nothing asks for one (`topology-refresh-interval`, ms).
    public var topologyRefreshInterval: Duration
    /// Least time between two topology refreshes (`topology-refresh-min-interval`, ms).
    public var topologyMinimumRefreshInterval: Duration
    /// Limit on connecting to a node (`connect-timeout`, ms); also bounds the monitor's replies.
    public var connectTimeout: Duration
    /// Redirects (MOVED/ASK) per command (`max-redirects`).
    public var maxRedirects: Int
    /// Largest bulk argument a client may send (`proto-max-bulk-len`).
    public var protoMaxBulkLength: Int
    /// Host Slotgate gives as its own in `CLUSTER SLOTS` and friends (`cluster-announce-ip`);
    /// empty means the bind address, or 127.0.0.1 when binding to all addresses.
    public var announceHost: String
    /// Port given there (`cluster-announce-port`); 0 means the client port.
    public var announcePort: Int
    /// Password clients must give with `AUTH` before other commands (`requirepass`); empty for none.
    public var requirePassword: String
    /// User and password Slotgate gives every node (`cluster-user`, `cluster-password`); empty
    /// password for none, empty user for the default user.
    public var clusterUser: String
    public var clusterPassword: String
    /// Node links that single clients may hold to themselves at once, for transactions and
    /// blocking commands, across the whole proxy (`max-exclusive-links`).
    public var maxExclusiveLinks: Int
    /// The same for one client (`max-exclusive-links-per-client`).
    public var maxExclusiveLinksPerClient: Int
    /// How long requests for an unreachable master wait for a replica to take over
    /// (`failover-hold`, ms); `nil` (`auto`) means the cluster's node timeout plus 5 s.
    public var failoverHold: Duration?
    /// Most request bytes held for failovers at once, across the proxy (`failover-hold-max-memory`).
    public var failoverHoldMaxMemory: Int
    /// Longest a node may leave a request unanswered before its link is given up and the requests
    /// on it fail (`request-timeout`, ms); zero for no limit.
    public var requestTimeout: Duration
    /// Where read-only commands go (`read-from`).
    public var readPolicy: ReadPolicy
    /// Most replication lag, in seconds, of a replica that serves reads (`replica-max-lag`).
    public var replicaMaxLag: Int
    /// The admin port (`admin-port`, 0 for none) and its address (`admin-bind`).
    public var adminPort: Int
    public var adminBind: String
    /// Password for the admin port (`admin-password`): HTTP basic auth, or `AUTH` on RESP; empty
    /// for none.
    public var adminPassword: String
    /// Client-seen latency, in µs, from which a command enters the slow log
    /// (`slowlog-log-slower-than`); negative for none.
    public var slowlogSlowerThan: Int
    /// Most slow log entries kept per event loop (`slowlog-max-len`).
    public var slowlogMaxLength: Int
    /// Keys the hot key table reports (`hotkeys`); 0 turns sampling off.
    public var hotKeys: Int
    /// Longest a graceful stop waits for commands in flight (`shutdown-timeout`, ms).
    public var shutdownTimeout: Duration
    /// Most clients connected at once (`maxclients`); more get `-ERR max number of clients reached`.
    public var maxClients: Int
    /// Seconds an idle client may stay connected (`timeout`); 0 for ever. Blocked and subscribed
    /// clients are never idle.
    public var idleTimeout: Int
    /// Most reply bytes queued for a client that does not read them (`client-output-buffer-limit`);
    /// past it the client is disconnected. 0 for no limit.
    public var clientOutputBufferLimit: Int
    /// The same for a subscribed client (`client-output-buffer-limit-pubsub`), whose messages
    /// arrive whether it reads them or not, as Redis's `client-output-buffer-limit pubsub`.
    public var clientOutputBufferLimitPubSub: Int
    /// Most bytes of an incomplete request buffered per client (`client-query-buffer-limit`).
    public var clientQueryBufferLimit: Int
    /// Most requests in flight on one node link (`max-in-flight-per-node`); more fail at once.
    /// 0 for no limit.
    public var maxInFlightPerNode: Int
    /// Whether a client's `CONFIG SET` goes to every node (`config-set-broadcast`); when it does
    /// not, `CONFIG SET` is refused.
    public var configSetBroadcast: Bool
    /// Failed `AUTH` attempts one client address may make per minute before its attempts are
    /// refused unchecked (`auth-failure-limit`); 0 for no limit.
    public var authFailureLimit: Int
    /// ACL users (`user NAME rules…` lines); with any, commands are checked against the client's
    /// user (`acl-mode proxy`).
    public var users: [ACLUser]
    /// Whether Slotgate or the cluster checks clients' users (`acl-mode`).
    public var aclMode: ACLMode
    /// Seconds a node link signed in as one user (`acl-mode passthrough`) stays open with nothing
    /// to do (`passthrough-idle-timeout`).
    public var passthroughIdleTimeout: Int
    /// Whether a transaction over several slots is refused or run slot by slot
    /// (`cross-slot-transactions`).
    public var crossSlotTransactions: CrossSlotTransactions
    /// The TLS client port and its certificates (`tls-*`); see ``ClientTLSSettings``.
    public var tls: ClientTLSSettings
    /// TLS to the nodes (`cluster-tls*`); see ``NodeTLSSettings``.
    public var clusterTLS: NodeTLSSettings

    public init(
        bind: String = "127.0.0.1",
        port: Int = 7777,
        seeds: [NodeAddress] = [NodeAddress(host: "127.0.0.1", port: 7000)],
        threads: Int = 0,
        logLevel: Logger.Level = .info,
        topologyRefreshInterval: Duration = .seconds(10),
        topologyMinimumRefreshInterval: Duration = .milliseconds(200),
        connectTimeout: Duration = .seconds(1),
        maxRedirects: Int = 5,
        protoMaxBulkLength: Int = 512 * 1024 * 1024,
        announceHost: String = "",
        announcePort: Int = 0,
        maxExclusiveLinks: Int = 10000,
        maxExclusiveLinksPerClient: Int = 16,
        failoverHold: Duration? = nil,
        failoverHoldMaxMemory: Int = 64 * 1024 * 1024,
        requestTimeout: Duration = .seconds(5),
        readPolicy: ReadPolicy = .master,
        replicaMaxLag: Int = 10,
        adminPort: Int = 7778,
        adminBind: String = "127.0.0.1",
        adminPassword: String = "",
        slowlogSlowerThan: Int = 10_000,
        slowlogMaxLength: Int = 128,
        hotKeys: Int = 16,
        shutdownTimeout: Duration = .seconds(10),
        maxClients: Int = 10000,
        idleTimeout: Int = 0,
        clientOutputBufferLimit: Int = 64 * 1024 * 1024,
        clientOutputBufferLimitPubSub: Int = 32 * 1024 * 1024,
        clientQueryBufferLimit: Int = 1024 * 1024 * 1024,
        maxInFlightPerNode: Int = 100_000,
        configSetBroadcast: Bool = true,
        authFailureLimit: Int = 10,
        users: [ACLUser] = [],
        aclMode: ACLMode = .proxy,
        passthroughIdleTimeout: Int = 60,
        crossSlotTransactions: CrossSlotTransactions = .refuse,
        tls: ClientTLSSettings = ClientTLSSettings(),
        clusterTLS: NodeTLSSettings = NodeTLSSettings(),
        requirePassword: String = "",
        clusterUser: String = "",
        clusterPassword: String = ""
    ) {
        self.bind = bind
        self.port = port
        self.seeds = seeds
        self.threads = threads
        self.logLevel = logLevel
        self.topologyRefreshInterval = topologyRefreshInterval
        self.topologyMinimumRefreshInterval = topologyMinimumRefreshInterval
        self.connectTimeout = connectTimeout
        self.maxRedirects = maxRedirects
        self.protoMaxBulkLength = protoMaxBulkLength
        self.announceHost = announceHost
        self.announcePort = announcePort
        self.maxExclusiveLinks = maxExclusiveLinks
        self.maxExclusiveLinksPerClient = maxExclusiveLinksPerClient
        self.failoverHold = failoverHold
        self.failoverHoldMaxMemory = failoverHoldMaxMemory
        self.requestTimeout = requestTimeout
        self.readPolicy = readPolicy
        self.replicaMaxLag = replicaMaxLag
        self.adminPort = adminPort
        self.adminBind = adminBind
        self.adminPassword = adminPassword
        self.slowlogSlowerThan = slowlogSlowerThan
        self.slowlogMaxLength = slowlogMaxLength
        self.hotKeys = hotKeys
        self.shutdownTimeout = shutdownTimeout
        self.maxClients = maxClients
        self.idleTimeout = idleTimeout
        self.clientOutputBufferLimit = clientOutputBufferLimit
        self.clientOutputBufferLimitPubSub = clientOutputBufferLimitPubSub
        self.clientQueryBufferLimit = clientQueryBufferLimit
        self.maxInFlightPerNode = maxInFlightPerNode
        self.configSetBroadcast = configSetBroadcast
        self.authFailureLimit = authFailureLimit
        self.users = users
        self.aclMode = aclMode
        self.passthroughIdleTimeout = passthroughIdleTimeout
        self.crossSlotTransactions = crossSlotTransactions
        self.tls = tls
        self.clusterTLS = clusterTLS
        self.requirePassword = requirePassword
        self.clusterUser = clusterUser
        self.clusterPassword = clusterPassword
    }

    /// The `AUTH` arguments for the nodes, or `nil` when they need none.
    public var clusterCredentials: [String]? {
        guard !self.clusterPassword.isEmpty else { return nil }
        return self.clusterUser.isEmpty ? ["AUTH", self.clusterPassword] : ["AUTH", self.clusterUser, self.clusterPassword]
    }

    /// The number of event loop threads to run: `threads`, or one per core when it is 0.
    public var eventLoopThreads: Int {
        self.threads > 0 ? self.threads : System.coreCount
    }
}
