//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateRESP

/// Where a node's reply to a routed request goes.
///
/// Most replies go straight to a client. The parts of a split or broadcast command go to the
/// ``FanOut`` that merges them first; the answer to a `COMMAND GETKEYS` the proxy asked goes back
/// to the router; the `+OK` of an `ASKING` the proxy sent itself goes nowhere; the answer to
/// the `CLIENT ID` sent ahead of a blocking command stays with the link's session, which keeps it.
/// The requests of a per-slot transaction's slot group report to its ``SlotGroupRun``.
enum ReplyTarget {
    case client(ReplySlot)
    case part(FanOut, index: Int)
    case slotGroup(SlotGroupRun)
    case keyLookup(PendingKeyLookup)
    case linkIdentity
    case discard

    /// Whether anyone still waits for the reply.
    var isAwaited: Bool {
        switch self {
        case .client(let slot): return slot.isAwaited
        case .part(let fanOut, _): return fanOut.isAwaited
        case .keyLookup(let lookup): return lookup.replySlot.isAwaited
        case .slotGroup(let run): return run.exec.isAwaited
        case .linkIdentity, .discard: return false
        }
    }

    /// Whether the reply is for a client that speaks RESP3.
    var usesRESP3: Bool {
        switch self {
        case .client(let slot): return slot.usesRESP3
        case .part(let fanOut, _): return fanOut.usesRESP3
        case .keyLookup(let lookup): return lookup.replySlot.usesRESP3
        case .slotGroup(let run): return run.exec.usesRESP3
        case .linkIdentity, .discard: return false
        }
    }

    /// The user the reply's client travels as (see ``NodeLogins``).
    var nodeLogin: NodeLogins.ID {
        switch self {
        case .client(let slot): return slot.nodeLogin
        case .part(let fanOut, _): return fanOut.nodeLogin
        case .keyLookup(let lookup): return lookup.replySlot.nodeLogin
        case .slotGroup(let run): return run.exec.nodeLogin
        case .linkIdentity, .discard: return NodeLogins.slotgate
        }
    }

    /// A request that may write went to `node`: the client's next `WAIT` covers that node.
    func wrote(to node: NodeAddress) {
        switch self {
        case .client(let slot): slot.session.wrote(to: node)
        case .part(let fanOut, _): fanOut.wrote(to: node)
        case .slotGroup(let run): run.exec.wrote(to: node)
        case .keyLookup, .linkIdentity, .discard: break
        }
    }

    /// Hands over the node's reply.
    func deliver(_ reply: FramedReply) {
        switch self {
        case .client(let slot): slot.fill(reply.bytes)
        case .part(let fanOut, let index): fanOut.partArrived(index, reply)
        case .keyLookup(let lookup): lookup.router.keysFound(reply, for: lookup)
        case .slotGroup(let run): run.replied(reply)
        case .linkIdentity, .discard: break
        }
    }

    /// Hands over an error the proxy produced instead of a reply.
    func deliverError(_ message: String) {
        var bytes = ByteBuffer()
        bytes.writeRESPError(message)
        self.deliver(FramedReply(kind: .error, bytes: bytes))
    }

    /// Answers the request with `message` because its link failed; `mayHaveRun` when the request
    /// had been sent, so the node may have run it.
    func linkFailed(_ message: String, mayHaveRun: Bool) {
        if case .slotGroup(let run) = self {
            run.failed(message, mayHaveRun: mayHaveRun)
        } else {
            self.deliverError(message)
        }
    }
}
