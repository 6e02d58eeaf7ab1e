//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateRESP

/// `CONFIG SET` through Slotgate: one change on every node, as one server would take it.
extension ClusterCommands {
    /// Sends a client's `CONFIG SET` to every node, masters and replicas, unless the operator
    /// turned that off (`config-set-broadcast no`) or a parameter would break the cluster.
    func configSet(_ command: RESPCommand, replySlot: ReplySlot, view: ClusterView) {
        guard self.loop.settings.configSetBroadcast else {
            replySlot.fillError(ProxyErrors.refused("CONFIG SET", "a setting would change on one node only (config-set-broadcast is no)"))
            return
        }
        let arguments = command.arguments
        guard arguments.count >= 4, arguments.count % 2 == 0 else {
            replySlot.fillError(ProxyErrors.arity("config|set"))
            return
        }
        var parameters: [(name: String, value: String)] = []
        for index in stride(from: 2, to: arguments.count, by: 2) {
            let name = String(buffer: arguments[index]).lowercased()
            if let refusal = NodeConfigChange.refusal(for: name) {
                replySlot.fillError(refusal)
                return
            }
            parameters.append((name, String(buffer: arguments[index + 1])))
        }
        let nodes = view.slotMap.allNodes
        let change = NodeConfigChange(nodes: nodes, parameters: parameters, settings: self.loop.monitor.nodeSettings)
        self.send(command.wire, to: nodes, merge: .configSet(change), replySlot: replySlot)
    }
}
