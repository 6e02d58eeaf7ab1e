//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// Everything an event loop needs to route commands: the slot map and the command table, as one
/// immutable value the topology monitor hands to every loop.
///
/// A class, not a struct: a loop reads it for every command that leaves the fast path (planning,
/// key lookup), and a struct of a dozen buffers would retain each of them at every copy; one
/// shared, immutable instance costs one retain.
public final class ClusterView: Sendable {
    /// Grows by one each time the slot map changes; tells operators and tests which map is in use.
    public let version: Int
    public let slotMap: SlotMap
    public let commands: CommandTable
    /// The cluster's `redis_version`.
    public let serverVersion: String
    /// The cluster's `cluster-node-timeout`, when a node would say: how long a failover takes.
    public let nodeTimeout: Duration?
    /// Replicas fit to serve reads, and each shard's nearest node.
    public let readTargets: ReadTargets
    /// Whether the nodes let a connection that never says `AUTH` run commands (their default
    /// user is on and needs no password).
    public let admitsAnonymousClients: Bool

    public init(
        version: Int,
        slotMap: SlotMap,
        commands: CommandTable,
        serverVersion: String,
        nodeTimeout: Duration? = nil,
        admitsAnonymousClients: Bool = true,
        readTargets: ReadTargets? = nil
    ) {
        self.admitsAnonymousClients = admitsAnonymousClients
        self.version = version
        self.slotMap = slotMap
        self.commands = commands
        self.serverVersion = serverVersion
        self.nodeTimeout = nodeTimeout
        self.readTargets = readTargets ?? ReadTargets(mastersOf: slotMap)
    }
}

/// What the topology monitor tells the event loops.
public enum TopologyUpdate: Sendable {
    /// A new view to route with.
    case available(ClusterView)
    /// No view could be built yet; the reason is for the clients' `-CLUSTERDOWN` replies.
    case unavailable(reason: String)
}
