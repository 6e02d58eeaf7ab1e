//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster

/// Why a user may not run a request; its ``message`` is the error Redis 7.0 sends.
public enum ACLDenial: Sendable, Equatable {
    /// The command rules do not allow the command (its full name: `config|get`).
    case command(String)
    /// A key matches no pattern that grants the access the command needs.
    case key
    /// A channel (or `PSUBSCRIBE` pattern) is not among the user's channel patterns.
    case channel

    /// The error text to send, without the leading `-`.
    public var message: String {
        switch self {
        case .command(let name): "NOPERM this user has no permissions to run the '\(name)' command"
        case .key: "NOPERM this user has no permissions to access one of the keys used as arguments"
        case .channel: "NOPERM this user has no permissions to access one of the channels used as arguments"
        }
    }
}

extension ACLUser {
    /// Checks a request as Redis's `ACLSelectorCheckCmd` does: the command first, then each key
    /// with the access it needs, then the channels (see ``ACLCommand/channels(in:)``); `nil` when
    /// the user may run it. Users with `allkeys` or `allchannels` skip those checks.
    public func authorize(
        _ command: ACLCommand,
        keys: [(key: ByteBuffer, access: KeySpec.Access)] = [],
        channels: [ByteBuffer] = []
    ) -> ACLDenial? {
        guard self.mayRun(command) else { return .command(command.name) }
        guard keys.allSatisfy({ self.mayAccess($0.key, $0.access) }) else { return .key }
        let allows = command.namesChannelPatterns ? self.channels.allows(subscribedPattern:) : self.channels.allows(channel:)
        return channels.allSatisfy(allows) ? nil : .channel
    }

    /// Whether the command rules allow the command, whatever its keys and channels.
    public func mayRun(_ command: ACLCommand) -> Bool {
        self.commands.allows(command)
    }

    /// Whether a key pattern grants `access` to `key` (read for a key the command reads, write
    /// for one it changes, both for one it does both to).
    public func mayAccess(_ key: ByteBuffer, _ access: KeySpec.Access) -> Bool {
        self.keys.allows(key, access: access)
    }
}
