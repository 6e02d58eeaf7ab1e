//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOConcurrencyHelpers
import NIOCore
import SlotgateCluster
import SlotgateConfiguration

/// What the admin port can see and do: gather an ``AdminReport`` from the event loops, change
/// settings at run time, reset the slow logs, refresh the topology.
///
/// The admin handlers reach the event loops only through ``LoopDirectory``, each on its own loop,
/// so the proxy's hot path never takes a lock for them; rendering a report runs on the admin
/// connection's loop, once per request.
final class AdminService: Sendable {
    let directory: LoopDirectory
    private let monitor: TopologyMonitor
    private let exclusiveLinks: ExclusiveLinkBudget
    private let authFailures: AuthFailureLimiter
    private let startedAt = ContinuousClock.now
    private let current: NIOLockedValueBox<ProxyConfiguration>

    init(
        configuration: ProxyConfiguration,
        directory: LoopDirectory,
        monitor: TopologyMonitor,
        exclusiveLinks: ExclusiveLinkBudget,
        authFailures: AuthFailureLimiter
    ) {
        self.current = NIOLockedValueBox(configuration)
        self.directory = directory
        self.monitor = monitor
        self.exclusiveLinks = exclusiveLinks
        self.authFailures = authFailures
    }

    /// The configuration in force now.
    var configuration: ProxyConfiguration { self.current.withLockedValue { $0 } }

    /// Gathers a report; completes on `eventLoop`.
    func report(on eventLoop: any EventLoop) -> EventLoopFuture<AdminReport> {
        self.directory.gather(on: eventLoop) { loop in (loop.snapshot(), loop.router.view) }.map { parts in
            var stats = StatsSnapshot()
            for (snapshot, _) in parts { stats.add(snapshot) }
            stats.slowLog = Array(stats.slowLog.prefix(self.configuration.slowlogMaxLength))
            return AdminReport(
                stats: stats,
                view: parts.compactMap(\.1).max { $0.version < $1.version },
                monitor: self.monitor.status,
                configuration: self.configuration,
                uptimeSeconds: Double((ContinuousClock.now - self.startedAt).components.seconds),
                exclusiveLinksInUse: self.exclusiveLinks.inUse,
                auth: self.authFailures.totals
            )
        }
    }

    /// Puts `configuration` in force on every loop: what can change at run time changes now; the
    /// names of changed directives that need a restart are returned.
    @discardableResult
    func apply(_ configuration: ProxyConfiguration) -> [String] {
        let previous = self.current.withLockedValue { current in
            defer { current = Self.merging(configuration, into: current) }
            return current
        }
        LogLevelControl.shared.level = configuration.logLevel
        let settings = RouterSettings(self.configuration)
        _ = self.directory.gather(on: self.directory.anyEventLoop) { $0.apply(settings) }
        return ProxyConfiguration.restartOnlyDirectives.filter { previous.value(of: $0) != configuration.value(of: $0) }
    }

    /// `configuration` with the directives that need a restart kept as they are in `current`.
    private static func merging(_ configuration: ProxyConfiguration, into current: ProxyConfiguration) -> ProxyConfiguration {
        var merged = configuration
        for directive in ProxyConfiguration.restartOnlyDirectives {
            try? merged.set(directive, [current.value(of: directive)])
        }
        merged.seeds = current.seeds
        return merged
    }

    /// `CLIENT LIST` lines of every client.
    func clientLines(on eventLoop: any EventLoop) -> EventLoopFuture<[String]> {
        self.directory.gather(on: eventLoop) { $0.clients.lines() }.map { $0.flatMap { $0 } }
    }

    func resetSlowLogs(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        self.directory.gather(on: eventLoop) { $0.resetSlowLog() }.map { _ in }
    }

    func refreshTopology() {
        self.monitor.requestRefresh()
    }
}
