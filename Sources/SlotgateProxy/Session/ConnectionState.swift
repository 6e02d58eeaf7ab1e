//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Synchronization

/// What a client has told Slotgate about its own connection (`CLIENT SETNAME`, `HELLO`), kept by
/// the proxy because the node links it would otherwise reach are shared with other clients.
struct ConnectionState {
    /// Unique for the life of the process, like Redis's client ids.
    let id: Int
    /// `CLIENT SETNAME`; `nil` until set, and after an empty name or `RESET`.
    var name: String?
    /// Whether the client may run commands: it gave the password, or none is required.
    var isAuthenticated: Bool
    /// The user the client is signed in as (`AUTH user password`); `default` until then.
    var user = "default"
    /// Under `acl-mode passthrough`, the node links the client's commands travel on once it signed
    /// in through the cluster (see ``NodeLogins``); `nil` before, and after `RESET`.
    var nodeLogin: NodeLogins.ID?
    /// Whether the client switched to RESP3 with `HELLO 3`.
    var usesRESP3 = false
    /// `CLIENT REPLY`: whether replies are sent.
    var replyMode = ReplyMode.on
    /// The client's and Slotgate's ends of the connection, for `CLIENT INFO` (see `ClientSession+Info`).
    var remoteAddress = "?"
    var localAddress = "?"

    /// Whether the client wants its replies (`CLIENT REPLY ON/OFF/SKIP`).
    enum ReplyMode {
        case on
        case off
        /// No reply for the next command only.
        case skipNext
    }

    init(isAuthenticated: Bool) {
        self.id = Self.nextID.add(1, ordering: .relaxed).oldValue
        self.name = nil
        self.isAuthenticated = isAuthenticated
    }

    private static let nextID = Atomic<Int>(1)
}
