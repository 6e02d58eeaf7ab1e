//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateCluster

/// Every error text Slotgate itself sends to clients, in one place, so wording stays consistent
/// and matches Redis where Redis has an error for the same situation.
enum ProxyErrors {
    static let crossSlot = "CROSSSLOT Keys in request don't hash to the same slot"
    static let slotNotServed = "CLUSTERDOWN Hash slot not served"
    static let selectInClusterMode = "ERR SELECT is not allowed in cluster mode"
    static let notAnInteger = "ERR value is not an integer or out of range"

    static func noSlotMap(_ reason: String) -> String {
        "CLUSTERDOWN Slotgate has no slot map yet: \(reason)"
    }

    static func arity(_ command: String) -> String {
        "ERR wrong number of arguments for '\(command)' command"
    }

    static func protocolError(_ error: some Error) -> String {
        "ERR \(error)"
    }

    /// The link dropped after the command was written: it may or may not have run, so it is not re-sent.
    static func linkLost(_ node: NodeAddress) -> String {
        "ERR Slotgate lost its connection to node \(node) before the reply; the command may have been executed"
    }

    /// The command never reached the node.
    static func cannotConnect(_ node: NodeAddress, _ reason: String) -> String {
        "ERR Slotgate cannot connect to node \(node): \(reason)"
    }
}
