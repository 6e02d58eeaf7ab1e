//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOConcurrencyHelpers

/// The server parameters clients changed on every node through Slotgate's `CONFIG SET`, so that
/// a node Slotgate meets later (added by a scale-out, or restarted and so back to its file's
/// settings) is given them too, and the cluster keeps looking like one server.
///
/// Written by an event loop when a `CONFIG SET` was taken by every node, read by the topology
/// monitor on each refresh; both are rare, so a lock is fine.
public final class NodeSettings: Sendable {
    /// The parameters by lower-case name, and a count of the changes, which tells the monitor
    /// that nodes it gave the settings to need them again.
    private let state = NIOLockedValueBox<(parameters: [String: String], generation: Int)>(([:], 0))

    public init() {}

    /// Records parameters every node took.
    public func remember(_ parameters: [(name: String, value: String)]) {
        self.state.withLockedValue { state in
            for (name, value) in parameters {
                state.parameters[name.lowercased()] = value
            }
            state.generation += 1
        }
    }

    /// The parameters to give a node, sorted by name, and the generation they belong to.
    public var current: (parameters: [(name: String, value: String)], generation: Int) {
        self.state.withLockedValue { state in
            (state.parameters.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }, state.generation)
        }
    }
}
