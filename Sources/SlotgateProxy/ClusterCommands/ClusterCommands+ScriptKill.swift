//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import NIOPosix
import SlotgateCluster
import SlotgateRESP

/// `SCRIPT KILL` and `FUNCTION KILL` through Slotgate.
///
/// A master running a long script answers other connections (with `-BUSY`, and `SCRIPT KILL`),
/// but not the connection that sent the script. That may well be the shared link the `KILL`
/// would travel on, so the `KILL` goes to every master on a connection of its own, opened off
/// the event loop.
extension ClusterCommands {
    func killScript(_ command: RESPCommand, replySlot: ReplySlot, view: ClusterView) {
        let arguments = command.arguments.map { String(buffer: $0) }
        let masters = view.slotMap.shards.map(\.master)
        let loop = self.loop
        let monitor = loop.monitor
        NIOThreadPool.singleton.runIfActive(eventLoop: loop.eventLoop) {
            monitor.sendOnFreshConnections(arguments, to: masters)
        }.assumeIsolated().whenComplete { result in
            replySlot.fill(Self.killReply((try? result.get()) ?? []))
            loop.flush.schedule()
        }
    }

    /// At most one master runs the script; the others answer `-NOTBUSY`. `+OK` when one killed
    /// it; else the first other error (`-UNKILLABLE`, a node not reached), else `-NOTBUSY`.
    private static func killReply(_ replies: [RESPValue]) -> ByteBuffer {
        var reply = ByteBuffer()
        if replies.contains(.simpleString("OK")) {
            reply.writeRESPSimpleString("OK")
            return reply
        }
        let errors = replies.compactMap { value -> String? in
            if case .error(let message) = value { return message }
            return nil
        }
        reply.writeRESPError(errors.first { !$0.hasPrefix("NOTBUSY") } ?? errors.first ?? "NOTBUSY No scripts in execution right now.")
        return reply
    }
}
