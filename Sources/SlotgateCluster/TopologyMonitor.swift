//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Logging
import NIOConcurrencyHelpers
import NIOPosix
import NIOSSL
import SlotgateRESP

/// Keeps the proxy's picture of the cluster current.
///
/// It runs on a thread of its own, because it talks to nodes through hiredis's blocking
/// `redisContext` and must never block an event loop. It asks several nodes for `CLUSTER SLOTS`
/// and `CLUSTER NODES` (and once for `COMMAND`) and believes the account ``TopologyReport``
/// picks. It refreshes at start, on a timer, and whenever an event loop reports evidence of
/// change (MOVED, a lost link), at most once per minimum interval, and measures replicas for
/// `read-from`. Each new view goes to the `publish` function given to ``start(publish:)``,
/// which passes it on to the event loops. Until the first view exists it retries with backoff
/// and publishes why the cluster is unavailable.
public final class TopologyMonitor: Sendable {
    /// How the monitor finds and refreshes the topology.
    public struct Configuration: Sendable {
        /// Nodes to ask first; every node of the last map is asked too.
        public var seeds: [NodeAddress]
        /// Time between refreshes when nothing asks for one.
        public var refreshInterval: Duration
        /// Least time between two refreshes, however many are asked for.
        public var minimumRefreshInterval: Duration
        /// Limit on connecting to a node and on each reply.
        public var nodeTimeout: Duration
        /// The `AUTH` command (with its arguments) the nodes need, if any.
        public var credentials: [String]?
        /// Most replication lag, in seconds, of a replica fit to serve reads; `nil` to measure no
        /// replicas (the proxy always measures them, so `read-from` can change at run time).
        public var replicaMaxLag: Int?
        /// TLS for the nodes (`cluster-tls`); `nil` for plain TCP.
        public var tls: NIOSSLContext?

        public init(
            seeds: [NodeAddress],
            refreshInterval: Duration,
            minimumRefreshInterval: Duration,
            nodeTimeout: Duration,
            credentials: [String]? = nil,
            replicaMaxLag: Int? = nil,
            tls: NIOSSLContext? = nil
        ) {
            self.seeds = seeds
            self.refreshInterval = refreshInterval
            self.minimumRefreshInterval = minimumRefreshInterval
            self.nodeTimeout = nodeTimeout
            self.credentials = credentials
            self.replicaMaxLag = replicaMaxLag
            self.tls = tls
        }

        /// A new connection to `node`, authenticated when the cluster needs it (and `signingIn`).
        func connect(to node: NodeAddress, signingIn: Bool = true) throws -> any BlockingNodeConnection {
            let connection: any BlockingNodeConnection =
                if let tls = self.tls {
                    try TLSNodeConnection(to: node, timeout: self.nodeTimeout, context: tls)
                } else {
                    try BlockingRedisConnection(host: node.host, port: node.port, timeout: self.nodeTimeout)
                }
            if signingIn, let credentials = self.credentials, case .error(let message) = try connection.command(credentials) {
                throw TopologyError("AUTH refused: \(message)")
            }
            return connection
        }
    }

    private let configuration: Configuration
    private let logger: Logger
    private let signal = RefreshSignal()
    /// The monitor's own thread: a pool of one, whose single task is the discovery loop.
    private let thread = NIOThreadPool(numberOfThreads: 1)
    private let statusBox = NIOLockedValueBox(MonitorStatus())
    /// Parameters set on every node through Slotgate, which the monitor gives to nodes met later.
    public let nodeSettings = NodeSettings()

    /// The TLS the nodes speak (`cluster-tls`), for every connection to them; `nil` for plain TCP.
    public var nodeTLS: NIOSSLContext? { self.configuration.tls }

    /// What the last refresh found; safe to read from any thread.
    public var status: MonitorStatus { self.statusBox.withLockedValue { $0 } }

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Starts the monitor thread; the first discovery begins at once and every outcome goes to `publish`.
    public func start(publish: @escaping @Sendable (TopologyUpdate) -> Void) {
        self.thread.start()
        self.thread.submit { [self] state in
            guard case .active = state else { return }
            var discovery = TopologyDiscovery(configuration: self.configuration, nodeSettings: self.nodeSettings, logger: self.logger)
            discovery.run(signal: self.signal, publish: publish) { status in self.statusBox.withLockedValue { $0 = status } }
        }
    }

    /// Asks for a refresh soon; cheap and non-blocking, safe to call from any event loop.
    public func requestRefresh() {
        self.signal.request()
    }

    /// Sends `arguments` to each of `nodes` on a fresh connection of its own, authenticated as the
    /// monitor's are, and returns each node's reply (a failure as an error reply). Blocks: call
    /// it off the event loops. For commands that must not wait behind a shared link's traffic,
    /// such as `SCRIPT KILL`, which a node answers while a script runs only on another connection.
    public func sendOnFreshConnections(_ arguments: [String], to nodes: [NodeAddress]) -> [RESPValue] {
        nodes.map { node in
            do {
                return try self.configuration.connect(to: node).command(arguments)
            } catch {
                return .error("ERR Slotgate could not reach node \(node): \(error)")
            }
        }
    }

    /// Stops the monitor thread after its current refresh.
    public func stop() {
        self.signal.stop()
        self.thread.shutdownGracefully { _ in }
    }
}

/// The monitor thread's own state: the last view and how to build the next one.
struct TopologyDiscovery {
    let configuration: TopologyMonitor.Configuration
    let nodeSettings: NodeSettings
    let logger: Logger
    private var current: ClusterView?
    private var catalog: Catalog?
    /// Nodes that did not answer the last refresh.
    private var unreachable: Set<NodeAddress> = []
    private var backoff: Duration = .milliseconds(100)
    private var status = MonitorStatus()
    /// When replicas were last measured for `read-from`.
    private var lastMeasured: ContinuousClock.Instant?
    /// Nodes asked per refresh, when that many answer.
    private static let sampleSize = 3
    /// The node process (`run_id`) and settings generation each node was last given the
    /// ``nodeSettings`` for (see `TopologyDiscovery+NodeSettings`).
    var settingsGiven: [NodeAddress: (runID: String, generation: Int)] = [:]

    init(configuration: TopologyMonitor.Configuration, nodeSettings: NodeSettings, logger: Logger) {
        self.configuration = configuration
        self.nodeSettings = nodeSettings
        self.logger = logger
    }

    mutating func run(signal: RefreshSignal, publish: (TopologyUpdate) -> Void, report: (MonitorStatus) -> Void) {
        var lastAttempt = ContinuousClock.now - self.configuration.refreshInterval
        while true {
            let deadline = lastAttempt + (self.current == nil ? self.backoff : self.configuration.refreshInterval)
            guard signal.waitForRefresh(earliest: lastAttempt + self.configuration.minimumRefreshInterval, deadline: deadline) else { return }
            lastAttempt = .now
            self.status.refreshes += 1
            self.refresh(publish: publish)
            report(self.status)
        }
    }

    /// Asks up to ``sampleSize`` nodes and installs the map ``TopologyReport/choose(_:)`` picks.
    /// A map with unassigned slots (a node that has not heard of a promotion yet) never replaces a
    /// complete one; it is taken only when no complete map exists.
    private mutating func refresh(publish: (TopologyUpdate) -> Void) {
        var failures: [String] = []
        var reports: [TopologyReport] = []
        var unreachable: Set<NodeAddress> = []
        for node in self.candidates() where reports.count < Self.sampleSize {
            do {
                reports.append(try self.ask(node))
            } catch {
                unreachable.insert(node)
                failures.append("\(node): \(error)")
            }
        }
        self.unreachable = unreachable
        guard let chosen = TopologyReport.choose(reports), let catalog = self.catalog else {
            let reason = "cannot reach any cluster node (\(failures.joined(separator: "; ")))"
            self.status.failedRefreshes += 1
            self.status.lastFailure = reason
            self.logger.warning("topology refresh failed", metadata: ["reason": "\(reason)"])
            if self.current == nil {
                self.backoff = min(self.backoff * 2, .seconds(5))
                publish(.unavailable(reason: reason))
            }
            return
        }
        self.backoff = .milliseconds(100)
        self.status.lastFailure = nil
        let asked = Set(reports.map(\.node))
        self.status.unreachableMasters = Set(
            chosen.slotMap.shards.map(\.master).filter { master in
                unreachable.contains(master) || (!asked.contains(master) && (try? self.timedCommand(["PING"], at: master)) == nil)
            }
        )
        if chosen.slotMap.assignedSlotCount < HashSlot.count, self.current.map({ $0.slotMap.assignedSlotCount == HashSlot.count }) == true {
            self.logger.warning(
                "kept the complete slot map; the cluster reports unassigned slots",
                metadata: ["map.slots": "\(chosen.slotMap.assignedSlotCount)", "map.source": "\(chosen.node)"]
            )
            return
        }
        self.install(chosen, catalog, agreeing: reports.count { $0.slotMap == chosen.slotMap }, of: reports.count, publish: publish)
        self.giveNodeSettings(to: chosen.slotMap)
    }

    /// Publishes the chosen map if it differs from the current one, logging once what changed.
    private mutating func install(
        _ report: TopologyReport,
        _ catalog: Catalog,
        agreeing: Int,
        of asked: Int,
        publish: (TopologyUpdate) -> Void
    ) {
        let slotMap = report.slotMap
        let mapChanged = slotMap != self.current?.slotMap
        // Replicas are measured when the map changes and otherwise once per refresh interval, not
        // on every refresh a burst of MOVED or a failover asks for.
        let measureDue = mapChanged || self.lastMeasured.map { ContinuousClock.now - $0 >= self.configuration.refreshInterval } ?? true
        let readTargets = measureDue ? self.configuration.replicaMaxLag.map { self.measureReadTargets(of: slotMap, maxLag: $0) } : nil
        if readTargets != nil { self.lastMeasured = .now }
        guard mapChanged || readTargets.map({ $0 != self.current?.readTargets }) == true else { return }
        let view = ClusterView(
            version: (self.current?.version ?? 0) + (mapChanged ? 1 : 0),
            slotMap: slotMap,
            commands: catalog.commands,
            serverVersion: catalog.serverVersion,
            nodeTimeout: catalog.nodeTimeout,
            admitsAnonymousClients: catalog.admitsAnonymousClients,
            readTargets: readTargets ?? self.current?.readTargets
        )
        let previous = self.current?.slotMap
        self.current = view
        publish(.available(view))
        guard mapChanged else {
            self.logger.debug("read targets updated", metadata: ["replicas.healthy": "\(view.readTargets.healthyReplicas)"])
            return
        }
        var metadata: Logger.Metadata = [
            "map.version": "\(view.version)", "map.masters": "\(slotMap.shards.count)",
            "map.slots": "\(slotMap.assignedSlotCount)", "map.source": "\(report.node)",
            "map.epoch": "\(report.epoch)", "map.agreeing": "\(agreeing)/\(asked)",
        ]
        if let previous {
            let change = SlotMapChange(from: previous, to: slotMap)
            metadata["change.slots_moved"] = "\(change.movedSlots)"
            metadata["change.nodes_added"] = "\(change.addedNodes.map(\.description).sorted())"
            metadata["change.nodes_removed"] = "\(change.removedNodes.map(\.description).sorted())"
            metadata["change.promoted"] = "\(change.promotedMasters.map(\.description).sorted())"
        }
        self.logger.info("slot map updated", metadata: metadata)
    }

    /// Asks each master which replicas copy it closely, and times every healthy node's answer.
    private func measureReadTargets(of slotMap: SlotMap, maxLag: Int) -> ReadTargets {
        var healthy: [[NodeAddress]] = []
        var nearest: [NodeAddress] = []
        for shard in slotMap.shards {
            var replicas: [NodeAddress] = []
            var fastest = (node: shard.master, time: Duration.seconds(3600))
            if let (info, time) = try? self.timedCommand(["PING"], at: shard.master, then: ["INFO", "replication"]) {
                fastest.time = time
                let online = Set(ReadTargets.onlineReplicas(infoReplication: info.string ?? "", maxLag: maxLag, queriedHost: shard.master.host))
                replicas = shard.replicas.filter { online.contains($0) }
            }
            for replica in replicas {
                if let (_, time) = try? self.timedCommand(["PING"], at: replica), time < fastest.time {
                    fastest = (replica, time)
                }
            }
            healthy.append(replicas)
            nearest.append(fastest.node)
        }
        return ReadTargets(healthyReplicas: healthy, nearest: nearest)
    }

    /// Times `arguments` on a fresh connection to `node`, then runs `next` if given; returns the
    /// last reply and the time the timed command took. Every node is timed with the same command
    /// (`PING`), so `nearest` compares like with like.
    private func timedCommand(_ arguments: [String], at node: NodeAddress, then next: [String]? = nil) throws -> (RESPValue, Duration) {
        let connection = try self.configuration.connect(to: node)
        let start = ContinuousClock.now
        let reply = try connection.command(arguments)
        let time = ContinuousClock.now - start
        return (try next.map { try connection.command($0) } ?? reply, time)
    }

    /// Nodes to ask: the last map's (the seeds may be the ones that died), then the seeds; those
    /// that could not be reached last time go last, so a dead node does not slow every refresh.
    private func candidates() -> [NodeAddress] {
        var seen = Set<NodeAddress>()
        let all = ((self.current?.slotMap.allNodes ?? []) + self.configuration.seeds).filter { seen.insert($0).inserted }
        return all.filter { !self.unreachable.contains($0) } + all.filter { self.unreachable.contains($0) }
    }

    /// One node's `CLUSTER SLOTS` and `CLUSTER NODES`, in one round trip (the second adds the
    /// replicas the first leaves out); the first node to answer also gives the command table and
    /// server facts.
    private mutating func ask(_ node: NodeAddress) throws -> TopologyReport {
        let connection = try self.configuration.connect(to: node)
        try connection.append(["CLUSTER", "SLOTS"])
        try connection.append(["CLUSTER", "NODES"])
        try connection.flush()
        let slotsReply = try connection.readReply()
        let nodesReply = try connection.readReply()
        if case .error(let message) = slotsReply { throw TopologyError(message) }
        let nodesText = nodesReply.string ?? ""
        let moreReplicas = SlotMap.replicasByMaster(clusterNodes: nodesText, queriedHost: node.host)
        guard let slotMap = SlotMap(clusterSlotsReply: slotsReply, queriedHost: node.host, moreReplicas: moreReplicas), slotMap.assignedSlotCount > 0
        else {
            throw TopologyError("no slots are assigned")
        }
        if self.catalog == nil {
            self.catalog = try Catalog(asking: connection, anonymously: self.configuration.connect(to: node, signingIn: false))
        }
        return TopologyReport(node: node, slotMap: slotMap, epoch: TopologyReport.viewEpoch(clusterNodes: nodesText))
    }
}

/// What the monitor learns once, from the first node that answers: the command table and facts
/// about the servers.
private struct Catalog {
    let commands: CommandTable
    /// `redis_version`.
    let serverVersion: String
    /// `cluster-node-timeout`, if `CONFIG GET` is allowed.
    let nodeTimeout: Duration?
    /// Whether a connection that never says `AUTH` may run commands.
    let admitsAnonymousClients: Bool

    /// Asks on `connection`, and tries a command on `anonymous`, a connection that did not sign in.
    init(asking connection: any BlockingNodeConnection, anonymously anonymous: any BlockingNodeConnection) throws {
        guard let commands = CommandTable(commandReply: try connection.command(["COMMAND"])) else {
            throw TopologyError("COMMAND reply could not be read")
        }
        self.commands = commands
        let serverInfo = try connection.command(["INFO", "server"]).string ?? ""
        let version = serverInfo.split(whereSeparator: \.isNewline).first { $0.hasPrefix("redis_version:") }?.dropFirst("redis_version:".count)
        self.serverVersion = version.map(String.init) ?? "unknown"
        let timeout = try connection.command(["CONFIG", "GET", "cluster-node-timeout"]).array?.last?.string.flatMap { Int($0) }
        self.nodeTimeout = timeout.map { .milliseconds($0) }
        if case .error(let message) = try anonymous.command(["PING"]), message.hasPrefix("NOAUTH") {
            self.admitsAnonymousClients = false
        } else {
            self.admitsAnonymousClients = true
        }
    }
}

/// A node answered, but not with a usable topology.
struct TopologyError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
