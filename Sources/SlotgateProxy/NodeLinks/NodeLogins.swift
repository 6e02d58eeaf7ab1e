//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateRESP

/// The users one event loop's node links sign in as, each under a small number that requests
/// and link keys carry instead of the credentials themselves.
///
/// Number 0 (``slotgate``) is Slotgate's own user (`cluster-user`, `cluster-password`): the one
/// every client's commands travel as under `acl-mode proxy`. Under `acl-mode passthrough` every
/// user and password a client signed in with through the cluster gets a number of its own, and so
/// does signing in as nobody (the nodes' default user, without `AUTH`) when Slotgate's own links
/// do sign in. Numbers are never reused, so a request can never travel as another user; a loop
/// meets as many as the cluster accepted distinct passwords.
package struct NodeLogins {
    package typealias ID = UInt32

    /// Slotgate's own user.
    package static let slotgate: ID = 0

    /// The `AUTH` each number's links send first, by number; `nil` for none.
    private var authCommands: [ByteBuffer?]
    private var numbers: [ByteBuffer?: ID]

    /// `slotgateAuth` is the `AUTH` Slotgate's own links send, if any.
    init(slotgateAuth: ByteBuffer?) {
        self.authCommands = [slotgateAuth]
        self.numbers = [slotgateAuth: Self.slotgate]
    }

    /// The number of the links that sign in with `authCommand` (`nil`: the links that never say
    /// `AUTH`), given one the first time.
    mutating func id(signingInWith authCommand: ByteBuffer?) -> ID {
        if let known = self.numbers[authCommand] { return known }
        let id = ID(self.authCommands.count)
        self.authCommands.append(authCommand)
        self.numbers[authCommand] = id
        return id
    }

    /// The `AUTH` links numbered `id` send first, if any.
    func authCommand(for id: ID) -> ByteBuffer? {
        self.authCommands[Int(id)]
    }

    /// The `AUTH` command for `user` (`default` when `nil`) and `password`.
    static func authCommand(user: ByteBuffer?, password: ByteBuffer) -> ByteBuffer {
        var command = ByteBuffer()
        command.writeRESPCommand([ByteBuffer(string: "AUTH"), user ?? ByteBuffer(string: "default"), password])
        return command
    }
}
