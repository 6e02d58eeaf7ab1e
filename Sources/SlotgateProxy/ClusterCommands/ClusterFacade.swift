//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateRESP

/// Slotgate seen through the `CLUSTER` command: a one-node cluster that owns all 16384 slots at
/// the proxy's announced address.
///
/// Cluster-aware clients (ioredis Cluster, redis-py RedisCluster, Lettuce) ask for the topology
/// and then route by it. Shown this picture, they send everything to Slotgate and never meet a
/// MOVED, while Slotgate does the real routing.
enum ClusterFacade {
    /// The reply to a `CLUSTER` subcommand the facade answers, or `nil` if it is not one of them.
    /// `resp3` picks the encoding a node would use: maps and verbatim strings for RESP3 clients.
    static func answer(_ command: RESPCommand, subcommand: String, address: NodeAddress, resp3: Bool) -> ByteBuffer {
        let id = self.nodeID(for: address)
        var reply = ByteBuffer()
        switch subcommand {
        case "cluster|slots":
            reply.writeRESPArrayHeader(count: 1)
            reply.writeRESPArrayHeader(count: 3)
            reply.writeRESPInteger(0)
            reply.writeRESPInteger(HashSlot.count - 1)
            reply.writeRESPArrayHeader(count: 3)
            reply.writeRESPBulkString(address.host)
            reply.writeRESPInteger(address.port)
            reply.writeRESPBulkString(id)
        case "cluster|shards":
            reply.writeRESPArrayHeader(count: 1)
            reply.writeRESPMapHeader(count: 2, resp3: resp3)
            reply.writeRESPBulkString("slots")
            reply.writeRESPArrayHeader(count: 2)
            reply.writeRESPInteger(0)
            reply.writeRESPInteger(HashSlot.count - 1)
            reply.writeRESPBulkString("nodes")
            reply.writeRESPArrayHeader(count: 1)
            let fields: [(String, String?)] = [
                ("id", id), ("port", nil), ("ip", address.host), ("endpoint", address.host), ("role", "master"),
                ("replication-offset", nil), ("health", "online"),
            ]
            reply.writeRESPMapHeader(count: fields.count, resp3: resp3)
            for (name, text) in fields {
                reply.writeRESPBulkString(name)
                if let text {
                    reply.writeRESPBulkString(text)
                } else {
                    reply.writeRESPInteger(name == "port" ? address.port : 0)
                }
            }
        case "cluster|nodes":
            reply.writeRESPVerbatimText(
                "\(id) \(address.host):\(address.port)@\(address.port + 10000) myself,master - 0 0 1 connected 0-\(HashSlot.count - 1)\n",
                resp3: resp3
            )
        case "cluster|info":
            let lines = [
                "cluster_enabled:1", "cluster_state:ok", "cluster_slots_assigned:\(HashSlot.count)", "cluster_slots_ok:\(HashSlot.count)",
                "cluster_slots_pfail:0", "cluster_slots_fail:0", "cluster_known_nodes:1", "cluster_size:1", "cluster_current_epoch:1",
                "cluster_my_epoch:1",
            ]
            reply.writeRESPVerbatimText(lines.joined(separator: "\r\n") + "\r\n", resp3: resp3)
        case "cluster|myid":
            reply.writeRESPBulkString(id)
        case "cluster|keyslot":
            reply.writeRESPInteger(Int(command.arguments[2].withUnsafeReadableBytes { HashSlot(key: $0) }.rawValue))
        default:
            preconditionFailure("Invalid state: \(subcommand) is not a CLUSTER subcommand the facade answers")
        }
        return reply
    }

    /// A stable 40-hex-digit node id derived from the announced address, so that clients see the
    /// same id across restarts of the same proxy.
    static func nodeID(for address: NodeAddress) -> String {
        var digits = ""
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for round in 0..<3 {
            for byte in "slotgate-\(round)-\(address)".utf8 {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            }
            let hex = String(hash, radix: 16)
            digits += String(repeating: "0", count: 16 - hex.count) + hex
        }
        return String(digits.prefix(40))
    }
}
