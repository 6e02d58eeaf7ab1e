//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// Replicas that `CLUSTER NODES` names but `CLUSTER SLOTS` leaves out.
///
/// Redis 7 lists a replica in `CLUSTER SLOTS` only once it has reported a replication offset,
/// that is once its master has replicated a write. In a new cluster that has taken no write yet,
/// and for a replica just added, the slot map would hold masters only: a `CONFIG SET` would miss
/// the replicas, and reads could not go to them. `CLUSTER NODES` names them from the start.
extension SlotMap {
    /// The replicas of each master in a `CLUSTER NODES` reply, leaving out nodes marked failing
    /// (`fail`, `fail?`), still in handshake or without an address. Lines are
    /// `id host:port@bus[,hostname] flags master-id …`; an empty host is `queriedHost`.
    public static func replicasByMaster(clusterNodes text: String, queriedHost: String) -> [NodeAddress: [NodeAddress]] {
        var addressByID: [Substring: NodeAddress] = [:]
        var replicas: [(master: Substring, node: NodeAddress)] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 4 else { continue }
            let flags = fields[2].split(separator: ",")
            guard !flags.contains(where: { ["fail", "fail?", "handshake", "noaddr"].contains($0) }),
                let endpoint = fields[1].split(separator: "@", omittingEmptySubsequences: false).first,
                let node = NodeAddress(endpoint.hasPrefix(":") ? queriedHost + endpoint : String(endpoint))
            else { continue }
            addressByID[fields[0]] = node
            if flags.contains("slave") || flags.contains("replica") {
                replicas.append((fields[3], node))
            }
        }
        var byMaster: [NodeAddress: [NodeAddress]] = [:]
        for (masterID, node) in replicas {
            guard let master = addressByID[masterID] else { continue }
            byMaster[master, default: []].append(node)
        }
        return byMaster.mapValues { $0.sorted { ($0.host, $0.port) < ($1.host, $1.port) } }
    }
}
