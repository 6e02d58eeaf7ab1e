//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Logging
import NIOCore
import SlotgateCluster

/// One event loop's share of the proxy: the parts that serve this loop's clients, and what they
/// all read (settings, the clock of the current burst of work, counters).
///
/// Each event loop has exactly one, and everything it holds is touched only on that loop: that is
/// the share-nothing rule, no locks and no thread hops per command. It owns no logic of its own
/// beyond handing news to its parts; each part owns one thing:
/// - ``LoopRouter``: where a command goes (the cluster view, plans, routing, redirects);
/// - ``NodeLinks``: the connections to the nodes (registry, backoff, bootstrap, exclusive links);
/// - ``LoopClients``: the clients (registry, admission, limits);
/// - ``FailoverHold``: requests and sessions waiting for a node that cannot be reached;
/// - ``ClusterCommands``: commands several nodes answer (splits, broadcasts, SCAN, INFO, …);
/// - ``TurnFlush``: one flush per link and client per loop turn;
/// - ``CommandLog``: the per-command counters and the slow log.
package final class ProxyLoop {
    package let eventLoop: any EventLoop
    let logger: Logger
    let monitor: TopologyMonitor
    let shared: ProxyShared
    /// What this loop counted, for the admin port.
    let stats = LoopStats()
    let flush: TurnFlush
    /// Changed only by ``apply(_:)`` (a reload or `PROXY CONFIG SET`), on this loop.
    private(set) var settings: RouterSettings
    /// The time at the start of the current burst of work: read once per read from a socket and
    /// used for every command in it, rather than read from the clock per command.
    private(set) var now = NIODeadline.now()
    /// Housekeeping ticks so far.
    private var ticks = 0

    /// Counts every reply to a client; it needs no part of the loop to be made.
    let commandLog = CommandLog()
    // The parts, made right after the loop itself (each keeps the loop to reach the others). The
    // hot path reaches them through references of its own (the session's router, the router's
    // links and counters, a link's router), never through these, whose reads cost a reference
    // count each.
    package private(set) var router: LoopRouter!
    package private(set) var links: NodeLinks!
    private(set) var clients: LoopClients!
    private(set) var hold: FailoverHold!
    private(set) var clusterCommands: ClusterCommands!

    package init(eventLoop: any EventLoop, settings: RouterSettings, monitor: TopologyMonitor, shared: ProxyShared, logger: Logger) {
        self.eventLoop = eventLoop
        self.settings = settings
        self.monitor = monitor
        self.shared = shared
        self.logger = logger
        self.flush = TurnFlush(eventLoop: eventLoop)
        self.links = NodeLinks(loop: self)
        self.clients = LoopClients(loop: self)
        self.hold = FailoverHold(loop: self)
        self.router = LoopRouter(loop: self, links: self.links)
        self.clusterCommands = ClusterCommands(loop: self)
    }

    /// Reads the clock for the burst of work that starts now (see ``now``).
    func noteTime() {
        self.now = .now()
    }

    /// Takes a new view (or news that there is none yet) from the topology monitor.
    package func install(_ update: TopologyUpdate) {
        switch update {
        case .available(let view):
            let previous = self.router.view
            self.router.install(view)
            self.links.install(view, replacing: previous)
            self.hold.releaseHeldRequests()
            self.hold.retryParkedSessions(everyone: true)
            self.flush.schedule()
        case .unavailable(let reason):
            self.router.noView(reason)
        }
    }

    /// Takes new settings (a reload, `PROXY CONFIG SET`); held requests keep their deadlines.
    func apply(_ settings: RouterSettings) {
        self.settings = settings
        self.router.remakePlanner()
    }

    /// Shutting down, after the clients: closes every node link on purpose; nobody waits for
    /// what is still in flight.
    func closeLinks() {
        self.links.closeAll()
    }

    // MARK: - Housekeeping

    /// How often the housekeeping tick runs.
    static let tickInterval = TimeAmount.milliseconds(50)
    /// Ticks between the once-a-second client limit checks.
    private static let ticksPerSecond = Int(1_000_000_000 / tickInterval.nanoseconds)
    /// Ticks between halvings of the hot key counts.
    private static let ticksPerHotKeyHalfLife = Int(HotKeySampler.halfLife) * ticksPerSecond
    /// Ticks between checks for freed memory to give back (see ``FreeMemoryReturn``).
    private static let ticksPerMemoryCheck = 2 * ticksPerSecond

    /// Starts the housekeeping tick on this loop.
    func startTicking() {
        let loopBound = NIOLoopBound(self, eventLoop: self.eventLoop)
        self.eventLoop.scheduleRepeatedTask(initialDelay: Self.tickInterval, delay: Self.tickInterval) { _ in
            loopBound.value.tick()
        }
    }

    /// Closes links whose node stopped answering or left the cluster, lets held requests and
    /// parked sessions go when their node may be reachable, and, less often, checks the clients'
    /// limits, ages the hot keys and gives freed memory back.
    private func tick() {
        let now = NIODeadline.now()
        self.links.tick(now: now)
        self.hold.tick(now: now)
        self.ticks &+= 1
        if self.ticks % Self.ticksPerSecond == 0 {
            self.clients.enforceLimits(now: now)
            if self.settings.authenticator.checkedByCluster {
                self.links.closeIdleUserLinks(now: now)
            }
        }
        if self.ticks % Self.ticksPerHotKeyHalfLife == 0 {
            self.stats.hotKeys.decay()
        }
        if self.ticks % Self.ticksPerMemoryCheck == 0 {
            FreeMemoryReturn.returnIfWorthIt()
        }
        self.flush.schedule()
    }
}

@available(*, unavailable)
extension ProxyLoop: Sendable {}
