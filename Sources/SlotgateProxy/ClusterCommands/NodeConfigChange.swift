//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateRESP

/// A client's `CONFIG SET`, sent to every node of the cluster, masters and replicas, so that the
/// cluster keeps answering as one server would.
///
/// The client gets `+OK` when every node took it; the parameters are then remembered (see
/// ``NodeSettings``) for nodes Slotgate meets later. Otherwise the error names each node that
/// refused, with its error, and the nodes that took the change, since Redis cannot take it back.
struct NodeConfigChange {
    /// The nodes asked, in part order.
    let nodes: [NodeAddress]
    let parameters: [(name: String, value: String)]
    let settings: NodeSettings

    /// Parameters a client may not change through Slotgate: they would break the cluster, its
    /// replication, or Slotgate's links to the nodes. By exact name, then by prefix.
    private static let protectedNames: Set<String> = [
        "port", "bind", "bind-source-addr", "dir", "dbfilename", "appendfilename", "appenddirname", "logfile", "pidfile",
        "daemonize", "supervised", "requirepass", "masterauth", "masteruser", "replicaof", "slaveof", "aclfile",
        "protected-mode", "enable-protected-configs", "enable-debug-command", "enable-module-command", "unixsocket",
        "unixsocketperm", "include", "rename-command",
    ]
    private static let protectedPrefixes = ["cluster-", "tls-", "replica-announce", "slave-announce"]

    /// Why `name` may not be set through Slotgate, or `nil` if it may.
    static func refusal(for name: String) -> String? {
        guard Self.protectedNames.contains(name) || Self.protectedPrefixes.contains(where: name.hasPrefix) else { return nil }
        return "ERR CONFIG SET '\(name)' is not available through Slotgate: it would break the cluster or Slotgate's links to it; set it on the nodes"
    }

    /// The client's reply, from every node's.
    func merged(_ parts: [FramedReply]) -> ByteBuffer {
        var reply = ByteBuffer()
        let refusals = zip(self.nodes, parts).filter { $0.1.kind == .error }
        guard !refusals.isEmpty else {
            self.settings.remember(self.parameters)
            reply.writeRESPSimpleString("OK")
            return reply
        }
        let refused = refusals.map { "\($0.0) (\($0.1.lineText))" }.joined(separator: ", ")
        let took = zip(self.nodes, parts).filter { $0.1.kind != .error }.map(\.0.description)
        reply.writeRESPError("ERR CONFIG SET refused by \(refused); taken by \(took.isEmpty ? "no node" : took.joined(separator: ", "))")
        return reply
    }
}
