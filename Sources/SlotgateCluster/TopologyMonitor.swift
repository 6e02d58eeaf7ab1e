//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import Logging
import SlotgateRESP

/// Keeps the proxy's picture of the cluster current.
///
/// It runs on a thread of its own, because it talks to nodes through hiredis's blocking
/// `redisContext` and must never block an event loop. It asks nodes for `CLUSTER SLOTS` (and once
/// for `COMMAND`) at start, on a timer, and whenever an event loop reports evidence of change
/// (MOVED, a lost link), at most once per minimum interval. Each new view is handed to
/// the `publish` function given to ``start(publish:)``, which passes it on to the event loops. Until the first view exists it retries with
/// backoff and publishes why the cluster is unavailable.
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

        public init(
            seeds: [NodeAddress],
            refreshInterval: Duration,
            minimumRefreshInterval: Duration,
            nodeTimeout: Duration,
            credentials: [String]? = nil
        ) {
            self.seeds = seeds
            self.refreshInterval = refreshInterval
            self.minimumRefreshInterval = minimumRefreshInterval
            self.nodeTimeout = nodeTimeout
            self.credentials = credentials
        }
    }

    private let configuration: Configuration
    private let logger: Logger
    private let signal = RefreshSignal()

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Starts the monitor thread; the first discovery begins at once and every outcome goes to `publish`.
    public func start(publish: @escaping @Sendable (TopologyUpdate) -> Void) {
        let thread = Thread { [self] in
            var discovery = TopologyDiscovery(configuration: self.configuration, logger: self.logger)
            discovery.run(signal: self.signal, publish: publish)
        }
        thread.name = "slotgate-topology"
        thread.start()
    }

    /// Asks for a refresh soon; cheap and non-blocking, safe to call from any event loop.
    public func requestRefresh() {
        self.signal.request()
    }

    /// Stops the monitor thread after its current refresh.
    public func stop() {
        self.signal.stop()
    }
}

/// The monitor thread's own state: the last view and how to build the next one.
private struct TopologyDiscovery {
    let configuration: TopologyMonitor.Configuration
    let logger: Logger
    private var current: ClusterView?
    private var backoff: Duration = .milliseconds(100)

    init(configuration: TopologyMonitor.Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    mutating func run(signal: RefreshSignal, publish: (TopologyUpdate) -> Void) {
        var lastAttempt = ContinuousClock.now - self.configuration.refreshInterval
        while true {
            let deadline = lastAttempt + (self.current == nil ? self.backoff : self.configuration.refreshInterval)
            guard signal.waitForRefresh(earliest: lastAttempt + self.configuration.minimumRefreshInterval, deadline: deadline) else { return }
            lastAttempt = .now
            self.refresh(publish: publish)
        }
    }

    /// Asks the candidates in turn and installs the first complete map. A map with unassigned
    /// slots (a node that has not heard of a promotion yet) never replaces a complete one; it is
    /// taken only when no complete map exists and nobody has a better one.
    private mutating func refresh(publish: (TopologyUpdate) -> Void) {
        var failures: [String] = []
        var partial: (map: SlotMap, catalog: (commands: CommandTable, serverVersion: String), source: NodeAddress)?
        for node in self.candidates() {
            do {
                let (slotMap, catalog) = try self.ask(node)
                self.backoff = .milliseconds(100)
                if slotMap.assignedSlotCount == HashSlot.count {
                    self.install(slotMap, catalog, from: node, publish: publish)
                    return
                }
                if partial == nil || slotMap.assignedSlotCount > partial!.map.assignedSlotCount {
                    partial = (slotMap, catalog, node)
                }
            } catch {
                failures.append("\(node): \(error)")
            }
        }
        if let partial {
            if self.current.map({ $0.slotMap.assignedSlotCount == HashSlot.count }) == true {
                self.logger.warning(
                    "kept the complete slot map; the cluster reports unassigned slots",
                    metadata: ["map.slots": "\(partial.map.assignedSlotCount)", "map.source": "\(partial.source)"]
                )
            } else {
                self.install(partial.map, partial.catalog, from: partial.source, publish: publish)
            }
            return
        }
        let reason = "cannot reach any cluster node (\(failures.joined(separator: "; ")))"
        self.logger.warning("topology refresh failed", metadata: ["reason": "\(reason)"])
        if self.current == nil {
            self.backoff = min(self.backoff * 2, .seconds(5))
            publish(.unavailable(reason: reason))
        }
    }

    /// Publishes `slotMap` if it differs from the current one, logging once what changed.
    private mutating func install(
        _ slotMap: SlotMap,
        _ catalog: (commands: CommandTable, serverVersion: String),
        from source: NodeAddress,
        publish: (TopologyUpdate) -> Void
    ) {
        guard slotMap != self.current?.slotMap else { return }
        let view = ClusterView(
            version: (self.current?.version ?? 0) + 1,
            slotMap: slotMap,
            commands: catalog.commands,
            serverVersion: catalog.serverVersion
        )
        var metadata: Logger.Metadata = [
            "map.version": "\(view.version)", "map.masters": "\(slotMap.shards.count)",
            "map.slots": "\(slotMap.assignedSlotCount)", "map.source": "\(source)",
        ]
        if let previous = self.current?.slotMap {
            let change = SlotMapChange(from: previous, to: slotMap)
            metadata["change.slots_moved"] = "\(change.movedSlots)"
            metadata["change.nodes_added"] = "\(change.addedNodes.map(\.description).sorted())"
            metadata["change.nodes_removed"] = "\(change.removedNodes.map(\.description).sorted())"
            metadata["change.promoted"] = "\(change.promotedMasters.map(\.description).sorted())"
        }
        self.logger.info("slot map updated", metadata: metadata)
        self.current = view
        publish(.available(view))
    }

    /// Nodes to ask, the last map's first (the seeds may be the ones that died), then the seeds.
    private func candidates() -> [NodeAddress] {
        var seen = Set<NodeAddress>()
        return ((self.current?.slotMap.allNodes ?? []) + self.configuration.seeds).filter { seen.insert($0).inserted }
    }

    private func ask(_ node: NodeAddress) throws -> (SlotMap, (commands: CommandTable, serverVersion: String)) {
        let connection = try BlockingRedisConnection(host: node.host, port: node.port, timeout: self.configuration.nodeTimeout)
        if let credentials = self.configuration.credentials, case .error(let message) = try connection.command(credentials) {
            throw TopologyError("AUTH refused: \(message)")
        }
        let slotsReply = try connection.command(["CLUSTER", "SLOTS"])
        if case .error(let message) = slotsReply { throw TopologyError(message) }
        guard let slotMap = SlotMap(clusterSlotsReply: slotsReply, queriedHost: node.host), slotMap.assignedSlotCount > 0 else {
            throw TopologyError("no slots are assigned")
        }
        if let current = self.current { return (slotMap, (current.commands, current.serverVersion)) }
        guard let commands = CommandTable(commandReply: try connection.command(["COMMAND"])) else {
            throw TopologyError("COMMAND reply could not be read")
        }
        let serverInfo = try connection.command(["INFO", "server"]).string ?? ""
        let version = serverInfo.split(whereSeparator: \.isNewline).first { $0.hasPrefix("redis_version:") }?.dropFirst("redis_version:".count)
        return (slotMap, (commands, version.map(String.init) ?? "unknown"))
    }
}

/// A node answered, but not with a usable topology.
struct TopologyError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
