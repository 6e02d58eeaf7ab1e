//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// One node's account of the cluster, and how to pick the account to believe among several.
///
/// Nodes learn of changes by gossip, so for a moment after a failover or a slot move they
/// disagree. The topology monitor asks several nodes and believes, in this order: a map that
/// covers every slot over one with holes; the map whose slot owners carry the highest config
/// epoch (Redis's own rule: the newest claim to a slot wins); the map most of the nodes asked
/// agree on; the first node asked.
public struct TopologyReport: Sendable {
    /// The node that gave the account.
    public let node: NodeAddress
    public let slotMap: SlotMap
    /// The highest config epoch among the masters that own slots in the node's `CLUSTER NODES`.
    public let epoch: Int

    public init(node: NodeAddress, slotMap: SlotMap, epoch: Int) {
        self.node = node
        self.slotMap = slotMap
        self.epoch = epoch
    }

    /// The report to believe, by the rules above; `nil` for none.
    public static func choose(_ reports: [TopologyReport]) -> TopologyReport? {
        func agreement(_ report: TopologyReport) -> Int {
            reports.count { $0.slotMap == report.slotMap }
        }
        func isComplete(_ report: TopologyReport) -> Bool {
            report.slotMap.assignedSlotCount == HashSlot.count
        }
        var best: (report: TopologyReport, rank: (Int, Int, Int))?
        for report in reports {
            let rank = (isComplete(report) ? 1 : 0, report.epoch, agreement(report))
            if best == nil || rank > best!.rank {
                best = (report, rank)
            }
        }
        return best?.report
    }

    /// The view epoch of a `CLUSTER NODES` reply: the highest config epoch of a master that
    /// owns slots. Lines are `id addr flags master ping pong epoch link slot…`.
    public static func viewEpoch(clusterNodes text: String) -> Int {
        var highest = 0
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: " ")
            guard fields.count > 8, fields[2].split(separator: ",").contains("master"), let epoch = Int(fields[6]) else { continue }
            highest = max(highest, epoch)
        }
        return highest
    }
}
