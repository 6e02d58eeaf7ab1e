//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateCluster
import Testing

/// Protects the summary logged for each topology change: slots moved, nodes added and removed,
/// replicas promoted.
@Suite("SlotMapChange")
struct SlotMapChangeTests {
    static func node(_ port: Int) -> NodeAddress { NodeAddress(host: "127.0.0.1", port: port) }

    static let before = SlotMap(ranges: [
        (0...5460, SlotMap.Shard(master: node(7000), replicas: [node(7003)])),
        (5461...10922, SlotMap.Shard(master: node(7001), replicas: [node(7004)])),
        (10923...16383, SlotMap.Shard(master: node(7002), replicas: [node(7005)])),
    ])

    @Test("a failover promotes the replica and moves its master's slots")
    func failover() {
        let after = SlotMap(ranges: [
            (0...5460, SlotMap.Shard(master: Self.node(7003), replicas: [])),
            (5461...10922, SlotMap.Shard(master: Self.node(7001), replicas: [Self.node(7004)])),
            (10923...16383, SlotMap.Shard(master: Self.node(7002), replicas: [Self.node(7005)])),
        ])
        let change = SlotMapChange(from: Self.before, to: after)
        #expect(change.movedSlots == 5461)
        #expect(change.promotedMasters == [Self.node(7003)])
        #expect(change.removedNodes == [Self.node(7000)])
        #expect(change.addedNodes.isEmpty)
    }

    @Test("resharding to a new master moves only the slots that changed owner")
    func reshard() {
        let after = SlotMap(ranges: [
            (0...5460, SlotMap.Shard(master: Self.node(7000), replicas: [Self.node(7003)])),
            (5461...10922, SlotMap.Shard(master: Self.node(7001), replicas: [Self.node(7004)])),
            (10923...16383, SlotMap.Shard(master: Self.node(7002), replicas: [Self.node(7005)])),
            (100...199, SlotMap.Shard(master: Self.node(7006), replicas: [])),
        ])
        let change = SlotMapChange(from: Self.before, to: after)
        #expect(change.movedSlots == 100)
        #expect(change.addedNodes == [Self.node(7006)])
        #expect(change.removedNodes.isEmpty && change.promotedMasters.isEmpty)
        #expect(SlotMapChange(from: Self.before, to: Self.before).movedSlots == 0)
    }
}
