//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateCluster
import Testing

/// Protects which node's account of the cluster the topology monitor believes when nodes
/// disagree (complete maps first, then the highest config epoch, then the majority), and the
/// reading of config epochs from `CLUSTER NODES`.
@Suite("TopologyReport")
struct TopologyReportTests {
    static func node(_ port: Int) -> NodeAddress { NodeAddress(host: "127.0.0.1", port: port) }

    static func map(firstMaster: Int, coverAll: Bool = true) -> SlotMap {
        SlotMap(ranges: [
            (0...5460, SlotMap.Shard(master: node(firstMaster), replicas: [])),
            (5461...10922, SlotMap.Shard(master: node(7001), replicas: [])),
            (10923...(coverAll ? 16383 : 16000), SlotMap.Shard(master: node(7002), replicas: [])),
        ])
    }

    @Test("the highest config epoch wins over the majority")
    func newestEpochWins() throws {
        let stale = Self.map(firstMaster: 7000)
        let promoted = Self.map(firstMaster: 7003)
        let reports = [
            TopologyReport(node: Self.node(7001), slotMap: stale, epoch: 6),
            TopologyReport(node: Self.node(7002), slotMap: stale, epoch: 6),
            TopologyReport(node: Self.node(7003), slotMap: promoted, epoch: 7),
        ]
        #expect(try #require(TopologyReport.choose(reports)).node == Self.node(7003))
    }

    @Test("among equal epochs the map most nodes agree on wins")
    func majorityBreaksTies() throws {
        let one = Self.map(firstMaster: 7000)
        let other = Self.map(firstMaster: 7003)
        let reports = [
            TopologyReport(node: Self.node(7001), slotMap: other, epoch: 6),
            TopologyReport(node: Self.node(7002), slotMap: one, epoch: 6),
            TopologyReport(node: Self.node(7004), slotMap: one, epoch: 6),
        ]
        #expect(try #require(TopologyReport.choose(reports)).slotMap == one)
    }

    @Test("a complete map wins over a map with holes, whatever its epoch")
    func completeBeatsPartial() throws {
        let reports = [
            TopologyReport(node: Self.node(7001), slotMap: Self.map(firstMaster: 7000, coverAll: false), epoch: 9),
            TopologyReport(node: Self.node(7002), slotMap: Self.map(firstMaster: 7000), epoch: 3),
        ]
        #expect(try #require(TopologyReport.choose(reports)).node == Self.node(7002))
        #expect(TopologyReport.choose([]) == nil)
    }

    @Test("the view epoch is the highest config epoch of a master that owns slots")
    func viewEpoch() {
        let text = """
            a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460
            b2 127.0.0.1:7001@17001 master - 0 1700000000000 2 connected 5461-10922
            c3 127.0.0.1:7002@17002 master,fail - 0 1700000000000 3 connected
            d4 127.0.0.1:7003@17003 master - 0 1700000000000 7 connected 10923-16383
            e5 127.0.0.1:7004@17004 slave b2 0 1700000000000 9 connected
            """
        #expect(TopologyReport.viewEpoch(clusterNodes: text) == 7)
        #expect(TopologyReport.viewEpoch(clusterNodes: "") == 0)
    }
}
