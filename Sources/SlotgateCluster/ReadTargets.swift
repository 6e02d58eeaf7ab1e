//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// Where each shard's reads may go besides its master, as the topology monitor last measured.
///
/// Read-only commands may be served by replicas (`read-from`), but only by replicas that copy
/// their master closely: a replica whose master reports it `online` with a replication lag of at
/// most the allowed seconds. For `read-from nearest`, each shard also names the node (master or
/// healthy replica) that answered the monitor fastest.
public struct ReadTargets: Sendable, Equatable {
    /// Healthy replicas, by shard index of the slot map they were measured with.
    public let healthyReplicas: [[NodeAddress]]
    /// The fastest healthy node of each shard, by shard index.
    public let nearest: [NodeAddress]

    public init(healthyReplicas: [[NodeAddress]], nearest: [NodeAddress]) {
        self.healthyReplicas = healthyReplicas
        self.nearest = nearest
    }

    /// No replica is known to be healthy and each shard's nearest node is its master.
    public init(mastersOf slotMap: SlotMap) {
        self.healthyReplicas = slotMap.shards.map { _ in [] }
        self.nearest = slotMap.shards.map(\.master)
    }

    /// The replicas a master's `INFO replication` reports `online` with `lag` at most `maxLag`
    /// seconds. Lines look like `slave0:ip=127.0.0.1,port=7003,state=online,offset=42,lag=0`;
    /// an empty `ip` means the master's own host, `queriedHost`.
    public static func onlineReplicas(infoReplication text: String, maxLag: Int, queriedHost: String) -> [NodeAddress] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            guard line.hasPrefix("slave"), let colon = line.firstIndex(of: ":") else { return nil }
            var fields: [Substring: Substring] = [:]
            for pair in line[line.index(after: colon)...].split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                if parts.count == 2 { fields[parts[0]] = parts[1] }
            }
            guard fields["state"] == "online", let lag = fields["lag"].flatMap({ Int($0) }), lag <= maxLag,
                let port = fields["port"].flatMap({ Int($0) }), let host = fields["ip"]
            else { return nil }
            return NodeAddress(host: host.isEmpty ? queriedHost : String(host), port: port)
        }
    }
}
