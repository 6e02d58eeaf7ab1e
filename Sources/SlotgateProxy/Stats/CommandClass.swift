//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// The kinds of command whose latencies are kept apart: a `GET` and a cluster-wide `KEYS` take
/// different paths through the proxy, and one histogram for both would hide either.
public enum CommandClass: String, Sendable, CaseIterable, Codable {
    /// Sent to the master of its slot, unchanged.
    case routed
    /// Split by slot and merged (`MGET`, `MSET`, `DEL`, …).
    case split
    /// Sent to every master and merged (`DBSIZE`, `KEYS`, `SCAN`, `INFO`, …).
    case broadcast
    /// Part of a transaction, on the client's own link.
    case transaction
    /// A blocking command, on the client's own link.
    case blocking
    /// A subscription command.
    case pubsub
    /// Answered by Slotgate itself.
    case local
}

extension CommandClass {
    /// The class's place in `allCases`, to index arrays by.
    var index: Int {
        switch self {
        case .routed: return 0
        case .split: return 1
        case .broadcast: return 2
        case .transaction: return 3
        case .blocking: return 4
        case .pubsub: return 5
        case .local: return 6
        }
    }
}
