//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateRESP

/// A node's answer that the command belongs elsewhere: `-MOVED slot host:port` (the slot lives
/// there now; the map is stale) or `-ASK slot host:port` (the slot is migrating; ask that node
/// this once, after `ASKING`, and leave the map alone).
public struct Redirect: Hashable, Sendable {
    /// Which of the two redirects it is.
    public enum Kind: Hashable, Sendable {
        case moved
        case ask
    }

    public var kind: Kind
    public var slot: HashSlot
    public var target: NodeAddress

    /// Parses the text of an error reply without its leading `-` (`MOVED 3999 127.0.0.1:6381`).
    public init?(errorText: some StringProtocol) {
        let parts = errorText.split(separator: " ")
        guard parts.count == 3, let slotNumber = Int(parts[1]), let slot = HashSlot(rawValue: slotNumber), let target = NodeAddress(parts[2])
        else { return nil }
        switch parts[0] {
        case "MOVED": self.kind = .moved
        case "ASK": self.kind = .ask
        default: return nil
        }
        self.slot = slot
        self.target = target
    }

    /// The redirect a node's reply carries (`-MOVED …`, `-ASK …`); `nil` for any other reply,
    /// including an error that only starts like one. Every path that reads replies from nodes
    /// (shared links, blocking commands, transactions, per-slot groups) asks this one parser.
    public init?(reply: FramedReply) {
        guard reply.isError(startingWith: "MOVED ") || reply.isError(startingWith: "ASK ") else { return nil }
        self.init(errorText: reply.lineText)
    }
}
