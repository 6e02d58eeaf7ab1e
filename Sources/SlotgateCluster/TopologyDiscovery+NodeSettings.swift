//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Logging
import SlotgateRESP

/// Gives the parameters clients set through Slotgate (``NodeSettings``) to nodes that lack them.
extension TopologyDiscovery {
    /// Sends every node of `slotMap`, masters and replicas, one `CONFIG SET` with all the
    /// remembered parameters, unless that node process (its `run_id`) already got this
    /// generation of them. A restarted node has a new `run_id`, a new node none on record, so
    /// both get them at the first refresh that reaches them. Costs nothing while no client
    /// has set anything.
    mutating func giveNodeSettings(to slotMap: SlotMap) {
        let (parameters, generation) = self.nodeSettings.current
        guard !parameters.isEmpty else { return }
        let nodes = slotMap.allNodes
        self.settingsGiven = self.settingsGiven.filter { nodes.contains($0.key) }
        for node in nodes {
            do {
                let connection = try self.configuration.connect(to: node)
                let serverInfo = try connection.command(["INFO", "server"]).string ?? ""
                let runID = serverInfo.split(whereSeparator: \.isNewline).first { $0.hasPrefix("run_id:") }.map(String.init) ?? ""
                if let given = self.settingsGiven[node], given.runID == runID, given.generation == generation {
                    continue
                }
                let reply = try connection.command(["CONFIG", "SET"] + parameters.flatMap { [$0.name, $0.value] })
                // Recorded even when refused, so a node that refuses is not asked again every refresh.
                self.settingsGiven[node] = (runID, generation)
                if case .error(let message) = reply {
                    self.logger.warning(
                        "node refused the parameters set through Slotgate",
                        metadata: ["upstream.node": "\(node)", "error": "\(message)"]
                    )
                } else {
                    self.logger.debug(
                        "node given the parameters set through Slotgate",
                        metadata: ["upstream.node": "\(node)", "parameters": "\(parameters.map(\.name).joined(separator: ","))"]
                    )
                }
            } catch {
                self.logger.debug(
                    "could not give a node the parameters set through Slotgate",
                    metadata: ["upstream.node": "\(node)", "error": "\(error)"]
                )
            }
        }
    }
}
