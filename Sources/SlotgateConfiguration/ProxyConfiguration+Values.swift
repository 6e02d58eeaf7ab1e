//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Logging
import SlotgateACL
import SlotgateCluster

/// Every directive in one table: how a value from the file sets it, how it reads back as the file
/// would write it (`PROXY CONFIG GET`, `slotgate --check-config`, telling a reload what changed),
/// and whether it takes effect only at start. One row per directive, so none can be settable but
/// not readable, or the other way round.
extension ProxyConfiguration {
    /// One directive.
    struct Directive: Sendable {
        let name: String
        /// A reload or `PROXY CONFIG SET` that changes it is reported and otherwise ignored.
        let needsRestart: Bool
        /// Sets the field from one value; `nil` for `cluster`, which takes several and may repeat.
        let set: (@Sendable (inout ProxyConfiguration, String) throws -> Void)?
        let value: @Sendable (ProxyConfiguration) -> String

        init(
            _ name: String,
            needsRestart: Bool,
            set: (@Sendable (inout ProxyConfiguration, String) throws -> Void)?,
            value: @escaping @Sendable (ProxyConfiguration) -> String
        ) {
            self.name = name
            self.needsRestart = needsRestart
            self.set = set
            self.value = value
        }
    }

    /// Every directive, in the order `--check-config` prints them.
    public static var directiveNames: [String] { Self.allDirectives.map(\.name) }

    /// Directives that only take effect at start: a reload or `PROXY CONFIG SET` that changes them
    /// is reported and otherwise ignored.
    public static let restartOnlyDirectives: [String] = Self.allDirectives.filter(\.needsRestart).map(\.name)

    /// The value of `directive` as the file would write it; empty for an unknown directive.
    public func value(of directive: String) -> String {
        Self.allDirectives.first { $0.name == directive.lowercased() }?.value(self) ?? ""
    }

    private static func milliseconds(_ duration: Duration) -> String {
        String(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }

    /// A value as a file line gives it: in double quotes when empty or when it holds a space or
    /// a tab, which would otherwise split it.
    private static func quoted(_ text: String) -> String {
        text.isEmpty || text.contains(where: { $0 == " " || $0 == "\t" }) ? "\"\(text)\"" : text
    }

    static let allDirectives: [Directive] = [
        Directive("bind", needsRestart: true, set: { $0.bind = $1 }, value: { $0.bind }),
        Directive("port", needsRestart: true, set: { $0.port = try integer($1, in: 0...65535) }, value: { String($0.port) }),
        Directive("cluster", needsRestart: true, set: nil, value: { $0.seeds.map(\.description).joined(separator: " ") }),
        // One `user` line per user; the value puts the lines after the first behind a line break.
        Directive(
            "user",
            needsRestart: false,
            set: nil,
            value: { $0.users.map { String($0.aclListEntry.dropFirst("user ".count)) }.joined(separator: "\nuser ") }
        ),
        Directive(
            "acl-mode",
            needsRestart: true,
            set: { $0.aclMode = try choice($1, describedAs: "mode for acl-mode") },
            value: { $0.aclMode.rawValue }
        ),
        Directive(
            "passthrough-idle-timeout",
            needsRestart: false,
            set: { $0.passthroughIdleTimeout = try integer($1, in: 1...86_400) },
            value: { String($0.passthroughIdleTimeout) }
        ),
        Directive("threads", needsRestart: true, set: { $0.threads = try integer($1, in: 0...1024) }, value: { String($0.threads) }),
        Directive("log-level", needsRestart: false, set: { $0.logLevel = try logLevel($1) }, value: { $0.logLevel.rawValue }),
        Directive(
            "topology-refresh-interval",
            needsRestart: true,
            set: { $0.topologyRefreshInterval = .milliseconds(try integer($1, in: 100...86_400_000)) },
            value: { milliseconds($0.topologyRefreshInterval) }
        ),
        Directive(
            "topology-refresh-min-interval",
            needsRestart: true,
            set: { $0.topologyMinimumRefreshInterval = .milliseconds(try integer($1, in: 0...60_000)) },
            value: { milliseconds($0.topologyMinimumRefreshInterval) }
        ),
        Directive(
            "connect-timeout",
            needsRestart: true,
            set: { $0.connectTimeout = .milliseconds(try integer($1, in: 1...600_000)) },
            value: { milliseconds($0.connectTimeout) }
        ),
        Directive("max-redirects", needsRestart: false, set: { $0.maxRedirects = try integer($1, in: 0...100) }, value: { String($0.maxRedirects) }),
        Directive(
            "failover-hold",
            needsRestart: false,
            set: { $0.failoverHold = $1.lowercased() == "auto" ? nil : .milliseconds(try integer($1, in: 0...3_600_000)) },
            value: { $0.failoverHold.map(milliseconds) ?? "auto" }
        ),
        Directive(
            "failover-hold-max-memory",
            needsRestart: true,
            set: { $0.failoverHoldMaxMemory = try byteSize($1, in: 0...(Int(Int32.max) * 2)) },
            value: { String($0.failoverHoldMaxMemory) }
        ),
        Directive(
            "request-timeout",
            needsRestart: false,
            set: { $0.requestTimeout = .milliseconds(try integer($1, in: 0...86_400_000)) },
            value: { milliseconds($0.requestTimeout) }
        ),
        Directive("read-from", needsRestart: false, set: { $0.readPolicy = try readPolicy($1) }, value: { $0.readPolicy.rawValue }),
        Directive(
            "replica-max-lag",
            needsRestart: true,
            set: { $0.replicaMaxLag = try integer($1, in: 0...86_400) },
            value: { String($0.replicaMaxLag) }
        ),
        Directive("cluster-user", needsRestart: true, set: { $0.clusterUser = $1 == "\"\"" ? "" : $1 }, value: { quoted($0.clusterUser) }),
        Directive(
            "cluster-password",
            needsRestart: true,
            set: { $0.clusterPassword = $1 == "\"\"" ? "" : $1 },
            value: { quoted($0.clusterPassword) }
        ),
        Directive("cluster-announce-ip", needsRestart: true, set: { $0.announceHost = $1 == "\"\"" ? "" : $1 }, value: { quoted($0.announceHost) }),
        Directive(
            "cluster-announce-port",
            needsRestart: true,
            set: { $0.announcePort = try integer($1, in: 0...65535) },
            value: { String($0.announcePort) }
        ),
        Directive("requirepass", needsRestart: false, set: { $0.requirePassword = $1 == "\"\"" ? "" : $1 }, value: { quoted($0.requirePassword) }),
        Directive(
            "auth-failure-limit",
            needsRestart: false,
            set: { $0.authFailureLimit = try integer($1, in: 0...1_000_000) },
            value: { String($0.authFailureLimit) }
        ),
        Directive(
            "proto-max-bulk-len",
            needsRestart: true,
            set: { $0.protoMaxBulkLength = try byteSize($1, in: 1024...(Int(Int32.max) * 2)) },
            value: { String($0.protoMaxBulkLength) }
        ),
        Directive(
            "max-exclusive-links",
            needsRestart: true,
            set: { $0.maxExclusiveLinks = try integer($1, in: 1...1_000_000) },
            value: { String($0.maxExclusiveLinks) }
        ),
        Directive(
            "max-exclusive-links-per-client",
            needsRestart: true,
            set: { $0.maxExclusiveLinksPerClient = try integer($1, in: 3...1024) },
            value: { String($0.maxExclusiveLinksPerClient) }
        ),
        Directive("admin-port", needsRestart: true, set: { $0.adminPort = try integer($1, in: 0...65535) }, value: { String($0.adminPort) }),
        Directive("admin-bind", needsRestart: true, set: { $0.adminBind = $1 }, value: { $0.adminBind }),
        Directive("admin-password", needsRestart: false, set: { $0.adminPassword = $1 == "\"\"" ? "" : $1 }, value: { quoted($0.adminPassword) }),
        Directive(
            "slowlog-log-slower-than",
            needsRestart: false,
            set: { $0.slowlogSlowerThan = try integer($1, in: -1...3_600_000_000) },
            value: { String($0.slowlogSlowerThan) }
        ),
        Directive(
            "slowlog-max-len",
            needsRestart: false,
            set: { $0.slowlogMaxLength = try integer($1, in: 0...100_000) },
            value: { String($0.slowlogMaxLength) }
        ),
        Directive("hotkeys", needsRestart: false, set: { $0.hotKeys = try integer($1, in: 0...1000) }, value: { String($0.hotKeys) }),
        Directive(
            "shutdown-timeout",
            needsRestart: false,
            set: { $0.shutdownTimeout = .milliseconds(try integer($1, in: 0...3_600_000)) },
            value: { milliseconds($0.shutdownTimeout) }
        ),
        Directive("maxclients", needsRestart: false, set: { $0.maxClients = try integer($1, in: 1...1_000_000) }, value: { String($0.maxClients) }),
        Directive("timeout", needsRestart: false, set: { $0.idleTimeout = try integer($1, in: 0...31_536_000) }, value: { String($0.idleTimeout) }),
        Directive(
            "client-output-buffer-limit",
            needsRestart: false,
            set: { $0.clientOutputBufferLimit = try byteSize($1, in: 0...(Int(Int32.max) * 2)) },
            value: { String($0.clientOutputBufferLimit) }
        ),
        Directive(
            "client-output-buffer-limit-pubsub",
            needsRestart: false,
            set: { $0.clientOutputBufferLimitPubSub = try byteSize($1, in: 0...(Int(Int32.max) * 2)) },
            value: { String($0.clientOutputBufferLimitPubSub) }
        ),
        Directive(
            "client-query-buffer-limit",
            needsRestart: true,
            set: { $0.clientQueryBufferLimit = try byteSize($1, in: 1024 * 1024...(Int(Int32.max) * 2)) },
            value: { String($0.clientQueryBufferLimit) }
        ),
        Directive(
            "max-in-flight-per-node",
            needsRestart: false,
            set: { $0.maxInFlightPerNode = try integer($1, in: 0...10_000_000) },
            value: { String($0.maxInFlightPerNode) }
        ),
        Directive(
            "config-set-broadcast",
            needsRestart: false,
            set: { $0.configSetBroadcast = try yesNo($1) },
            value: { $0.configSetBroadcast ? "yes" : "no" }
        ),
        Directive(
            "cluster-tls",
            needsRestart: true,
            set: { $0.clusterTLS.enabled = try yesNo($1) },
            value: { $0.clusterTLS.enabled ? "yes" : "no" }
        ),
        Directive(
            "cluster-tls-cert-file",
            needsRestart: true,
            set: { $0.clusterTLS.certificateFile = $1 },
            value: { quoted($0.clusterTLS.certificateFile) }
        ),
        Directive("cluster-tls-key-file", needsRestart: true, set: { $0.clusterTLS.keyFile = $1 }, value: { quoted($0.clusterTLS.keyFile) }),
        Directive(
            "cluster-tls-ca-cert-file",
            needsRestart: true,
            set: { $0.clusterTLS.caCertificateFile = $1 },
            value: { quoted($0.clusterTLS.caCertificateFile) }
        ),
        Directive("tls-port", needsRestart: true, set: { $0.tls.port = try integer($1, in: 0...65535) }, value: { String($0.tls.port) }),
        Directive("tls-cert-file", needsRestart: false, set: { $0.tls.certificateFile = $1 }, value: { quoted($0.tls.certificateFile) }),
        Directive("tls-key-file", needsRestart: false, set: { $0.tls.keyFile = $1 }, value: { quoted($0.tls.keyFile) }),
        Directive("tls-ca-cert-file", needsRestart: false, set: { $0.tls.caCertificateFile = $1 }, value: { quoted($0.tls.caCertificateFile) }),
        Directive(
            "tls-auth-clients",
            needsRestart: false,
            set: { $0.tls.clientAuthentication = try choice($1, describedAs: "tls-auth-clients value") },
            value: { $0.tls.clientAuthentication.rawValue }
        ),
        Directive(
            "tls-protocols",
            needsRestart: false,
            set: { $0.tls.protocols = try tlsProtocols($1) },
            value: { quoted($0.tls.protocols.joined(separator: " ")) }
        ),
        Directive("tls-ciphers", needsRestart: false, set: { $0.tls.ciphers = $1 }, value: { quoted($0.tls.ciphers) }),
        Directive(
            "cross-slot-transactions",
            needsRestart: false,
            set: { $0.crossSlotTransactions = try choice($1, describedAs: "cross-slot-transactions mode") },
            value: { $0.crossSlotTransactions.rawValue }
        ),
    ]
}
