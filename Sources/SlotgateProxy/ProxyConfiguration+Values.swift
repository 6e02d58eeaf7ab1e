//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Logging
import SlotgateCluster

/// Directive values as text, the way the file writes them: for `PROXY CONFIG GET`,
/// `slotgate --check-config` and for telling a reload which directives changed.
extension ProxyConfiguration {
    /// Every directive, in the order `--check-config` prints them.
    public static var directiveNames: [String] { Self.renderers.map(\.name) }

    /// Directives that only take effect at start: a reload or `PROXY CONFIG SET` that changes them
    /// is reported and otherwise ignored.
    public static let restartOnlyDirectives: [String] = [
        "bind", "port", "threads", "cluster", "admin-port", "admin-bind", "proto-max-bulk-len", "topology-refresh-interval",
        "topology-refresh-min-interval", "connect-timeout", "cluster-user", "cluster-password", "cluster-announce-ip",
        "cluster-announce-port", "max-exclusive-links", "max-exclusive-links-per-client", "failover-hold-max-memory", "replica-max-lag",
        "client-query-buffer-limit",
    ]

    /// The value of `directive` as the file would write it; empty for an unknown directive.
    public func value(of directive: String) -> String {
        Self.renderers.first { $0.name == directive.lowercased() }?.render(self) ?? ""
    }

    private static func milliseconds(_ duration: Duration) -> String {
        String(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }

    private static func quoted(_ text: String) -> String {
        text.isEmpty ? "\"\"" : text
    }

    private static let renderers: [(name: String, render: @Sendable (ProxyConfiguration) -> String)] = [
        ("bind", { $0.bind }),
        ("port", { String($0.port) }),
        ("cluster", { $0.seeds.map(\.description).joined(separator: " ") }),
        ("threads", { String($0.threads) }),
        ("log-level", { $0.logLevel.rawValue }),
        ("topology-refresh-interval", { milliseconds($0.topologyRefreshInterval) }),
        ("topology-refresh-min-interval", { milliseconds($0.topologyMinimumRefreshInterval) }),
        ("connect-timeout", { milliseconds($0.connectTimeout) }),
        ("max-redirects", { String($0.maxRedirects) }),
        ("failover-hold", { $0.failoverHold.map(milliseconds) ?? "auto" }),
        ("failover-hold-max-memory", { String($0.failoverHoldMaxMemory) }),
        ("request-timeout", { milliseconds($0.requestTimeout) }),
        ("read-from", { $0.readPolicy.rawValue }),
        ("replica-max-lag", { String($0.replicaMaxLag) }),
        ("cluster-user", { quoted($0.clusterUser) }),
        ("cluster-password", { quoted($0.clusterPassword) }),
        ("cluster-announce-ip", { quoted($0.announceHost) }),
        ("cluster-announce-port", { String($0.announcePort) }),
        ("requirepass", { quoted($0.requirePassword) }),
        ("proto-max-bulk-len", { String($0.protoMaxBulkLength) }),
        ("max-exclusive-links", { String($0.maxExclusiveLinks) }),
        ("max-exclusive-links-per-client", { String($0.maxExclusiveLinksPerClient) }),
        ("admin-port", { String($0.adminPort) }),
        ("admin-bind", { $0.adminBind }),
        ("admin-password", { quoted($0.adminPassword) }),
        ("slowlog-log-slower-than", { String($0.slowlogSlowerThan) }),
        ("slowlog-max-len", { String($0.slowlogMaxLength) }),
        ("hotkeys", { String($0.hotKeys) }),
        ("shutdown-timeout", { milliseconds($0.shutdownTimeout) }),
        ("maxclients", { String($0.maxClients) }),
        ("timeout", { String($0.idleTimeout) }),
        ("client-output-buffer-limit", { String($0.clientOutputBufferLimit) }),
        ("client-query-buffer-limit", { String($0.clientQueryBufferLimit) }),
        ("max-in-flight-per-node", { String($0.maxInFlightPerNode) }),
    ]
}
