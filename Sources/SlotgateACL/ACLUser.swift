//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster

/// One user of `acl-mode proxy`: Slotgate itself authenticates clients and checks each command,
/// with Redis's ACL syntax and outcomes, so a cluster can keep one administrative user while every
/// application gets only the commands, keys and channels it needs.
///
/// Built from rules applied in order as `ACL SETUSER` applies them (``apply(rules:)``), usually from a
/// configuration line `user alice on >secret ~app:* &* -@all +@read` (``init(definition:)``).
/// A new user is off, has no password, no keys, no channels and no commands, as in Redis 7.0
/// (whose `acl-pubsub-default` is `resetchannels`). Redis's selectors (`(…)`), first-argument
/// rules (`+select|0`) and payload sanitising flags are not part of this subset.
public struct ACLUser: Sendable, Equatable {
    public let name: String
    /// `on`: clients may authenticate as this user. A client already authenticated stays so.
    public internal(set) var isEnabled = false
    /// `nopass`: any password authenticates.
    public internal(set) var isPasswordless = false
    /// The user's passwords, hashed, in the order they were given.
    var passwords: [ACLPasswordHash] = []
    var keys = ACLKeyPatterns()
    var channels = ACLChannelPatterns()
    var commands = ACLCommandRules()

    /// A user as `ACL SETUSER name` with no rule creates it: off, and allowed nothing.
    public init(name: String) {
        self.name = name
    }

    /// Whether `password` authenticates this user (`AUTH name password`): never when the user is
    /// off, always when it is `nopass`, else when it is one of the user's passwords.
    public func accepts(password: ByteBuffer) -> Bool {
        self.isEnabled && (self.isPasswordless || self.passwords.contains { $0.isHash(of: password) })
    }

    /// The command rules that name a command the cluster does not have (`+nosuch`, or the
    /// first-argument form `+select|0`, which this subset does not support): such a rule allows
    /// or denies nothing. Redis refuses them; the proxy learns the cluster's commands only after
    /// its configuration is read, so it can check them only then.
    public func unknownCommands(in table: CommandTable) -> [String] {
        self.commands.unknownCommands(in: table)
    }
}
