//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateRESP

extension SlotMap {
    /// Builds the map from a node's `CLUSTER SLOTS` reply:
    /// `[[start, end, [host, port, id, …], [replica host, port, id, …]…]…]`.
    ///
    /// - Parameters:
    ///   - reply: the decoded reply.
    ///   - queriedHost: the host that was asked; nodes that report an empty or unknown (`?`) host
    ///     are reached there, as Redis clients do.
    ///   - moreReplicas: replicas the reply may leave out, by master (from `CLUSTER NODES`, see
    ///     ``replicasByMaster(clusterNodes:queriedHost:)``); each comes after those the reply lists.
    /// - Returns: `nil` when the reply is not a `CLUSTER SLOTS` reply.
    public init?(clusterSlotsReply reply: RESPValue, queriedHost: String, moreReplicas: [NodeAddress: [NodeAddress]] = [:]) {
        guard let entries = reply.array else { return nil }
        var ranges: [(slots: ClosedRange<Int>, shard: Shard)] = []
        for entry in entries {
            guard let fields = entry.array, fields.count >= 3, let start = fields[0].int, let end = fields[1].int,
                0 <= start, start <= end, end < HashSlot.count,
                let master = Self.node(fields[2], queriedHost: queriedHost)
            else { return nil }
            let listed = fields.dropFirst(3).compactMap { Self.node($0, queriedHost: queriedHost) }
            let replicas = listed + (moreReplicas[master] ?? []).filter { !listed.contains($0) }
            ranges.append((start...end, Shard(master: master, replicas: replicas)))
        }
        self.init(ranges: ranges)
    }

    private static func node(_ value: RESPValue, queriedHost: String) -> NodeAddress? {
        guard let fields = value.array, fields.count >= 2, let host = fields[0].string, let port = fields[1].int else { return nil }
        return NodeAddress(host: host.isEmpty || host == "?" ? queriedHost : host, port: port)
    }
}
