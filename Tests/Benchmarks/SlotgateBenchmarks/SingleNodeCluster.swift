//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateCluster

/// A cluster that exists only in the benchmarks: one made-up master serving all 16384 slots, and
/// a command table holding `GET` as Redis 7 describes it in its `COMMAND` reply.
enum SingleNodeCluster {
    /// The only node. Nothing connects to it: its link runs on an embedded channel, and the
    /// `.invalid` top-level domain names no host.
    static let node = NodeAddress(host: "node.invalid", port: 6379)

    /// The view a topology monitor would publish for this cluster.
    static func view() -> ClusterView {
        let get = CommandSpec(
            name: "get",
            arity: 2,
            flags: ["readonly", "fast"],
            keySpecs: [KeySpec(beginSearch: .index(1), findKeys: .range(lastKey: 0, step: 1, limit: 0))]
        )
        return ClusterView(
            version: 1,
            slotMap: SlotMap(ranges: [(slots: 0...(HashSlot.count - 1), shard: SlotMap.Shard(master: self.node, replicas: []))]),
            commands: CommandTable([get]),
            serverVersion: "7.2.4"
        )
    }
}
