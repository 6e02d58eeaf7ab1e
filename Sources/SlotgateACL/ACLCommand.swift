//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster

/// What an ACL check needs to know of a command: its full name, the categories `+@category` and
/// `-@category` rules reach it through, whether it escapes command rules altogether, and which of
/// its arguments are Pub/Sub channels.
///
/// Built from the cluster's ``CommandSpec`` (``init(_:in:)``); an event loop may keep one per spec.
public struct ACLCommand: Sendable, Hashable {
    /// Lower-case full name: `get`, or `config|get` for a subcommand.
    public let name: String
    /// The categories category rules reach it through, without the `@`.
    public let categories: Set<String>
    /// `AUTH` and `HELLO` (flag `no_auth`): every user may run them, whatever its command rules.
    public let isExempt: Bool

    public init(name: String, categories: Set<String>, isExempt: Bool = false) {
        self.name = name
        self.categories = categories
        self.isExempt = isExempt
    }

    /// The command of a spec from `table`. A subcommand is in its own categories and in its
    /// container's, as Redis's `+@admin` allows every subcommand of `CONFIG` (`@admin`, `@slow`)
    /// and `+@slow` every subcommand of `CONFIG` (`@slow`) too. Module commands are in no
    /// category: Redis's category rules pass them over.
    public init(_ spec: CommandSpec, in table: CommandTable) {
        let parts = spec.name.split(separator: "|", maxSplits: 1)
        let container = parts.count == 2 ? table[String(parts[0])] : nil
        let isModule = spec.flags.contains("module") || container?.flags.contains("module") == true
        self.init(
            name: spec.name,
            categories: isModule ? [] : spec.categories.union(container?.categories ?? []),
            isExempt: spec.flags.contains("no_auth")
        )
    }

    /// The arguments Redis checks against a user's channel patterns (`ACLDoesCommandHaveChannels`):
    /// the channel of `PUBLISH` and `SPUBLISH`, the channels of `SUBSCRIBE` and `SSUBSCRIBE`, the
    /// patterns of `PSUBSCRIBE`; none for other commands (`UNSUBSCRIBE` and `PUBSUB` included).
    public func channels(in arguments: [ByteBuffer]) -> [ByteBuffer] {
        switch self.name {
        case "publish", "spublish": Array(arguments.dropFirst().prefix(1))
        case "subscribe", "ssubscribe", "psubscribe": Array(arguments.dropFirst())
        default: []
        }
    }

    /// `PSUBSCRIBE`: its channels are patterns, which must equal one of a user's channel patterns
    /// rather than match it.
    var namesChannelPatterns: Bool {
        self.name == "psubscribe"
    }
}
