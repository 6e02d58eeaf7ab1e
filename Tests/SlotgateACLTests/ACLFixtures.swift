//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster

@testable import SlotgateACL

/// A small command table with Redis 7.0's categories and flags for the commands the ACL tests
/// use, and helpers to make users and commands from it.
enum ACLFixtures {
    static func spec(_ name: String, _ categories: Set<String>, flags: Set<String> = []) -> CommandSpec {
        CommandSpec(name: name, arity: -1, flags: flags, keySpecs: [], categories: categories)
    }

    static let table = CommandTable([
        Self.spec("get", ["read", "string", "fast"], flags: ["readonly", "fast"]),
        Self.spec("set", ["write", "string", "slow"], flags: ["write", "denyoom"]),
        Self.spec("del", ["keyspace", "write", "slow"], flags: ["write"]),
        Self.spec("exists", ["keyspace", "read", "fast"], flags: ["readonly", "fast"]),
        Self.spec("copy", ["keyspace", "write", "slow"], flags: ["write", "denyoom"]),
        Self.spec("flushall", ["keyspace", "write", "slow", "dangerous"], flags: ["write"]),
        Self.spec("ping", ["fast", "connection"], flags: ["fast"]),
        Self.spec("auth", ["fast", "connection"], flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"]),
        Self.spec("publish", ["pubsub", "fast"], flags: ["pubsub", "loading", "stale", "fast"]),
        Self.spec("spublish", ["pubsub", "fast"], flags: ["pubsub", "loading", "stale", "fast"]),
        Self.spec("subscribe", ["pubsub", "slow"], flags: ["pubsub", "noscript", "loading", "stale"]),
        Self.spec("ssubscribe", ["pubsub", "slow"], flags: ["pubsub", "noscript", "loading", "stale"]),
        Self.spec("psubscribe", ["pubsub", "slow"], flags: ["pubsub", "noscript", "loading", "stale"]),
        Self.spec("unsubscribe", ["pubsub", "slow"], flags: ["pubsub", "noscript", "loading", "stale"]),
        Self.spec("mod.get", ["read"], flags: ["module", "readonly"]),
        CommandSpec(
            name: "config",
            arity: -2,
            flags: [],
            keySpecs: [],
            subcommands: [
                "get": Self.spec("config|get", ["admin", "slow", "dangerous"], flags: ["admin", "noscript", "loading", "stale"]),
                "set": Self.spec("config|set", ["admin", "slow", "dangerous"], flags: ["admin", "noscript", "loading", "stale"]),
                "help": Self.spec("config|help", ["slow"], flags: ["loading", "stale"]),
            ],
            categories: ["slow"]
        ),
    ])

    /// The command of the table named `name` (`config|get` for a subcommand).
    static func command(_ name: String) -> ACLCommand {
        let parts = name.split(separator: "|").map(String.init)
        var spec = Self.table[parts[0]]!
        if parts.count == 2 {
            spec = spec.subcommands[parts[1]]!
        }
        return ACLCommand(spec, in: Self.table)
    }

    /// A user named `alice` with these space-separated rules.
    static func user(_ rules: String) throws -> ACLUser {
        try ACLUser(definition: ["alice"] + rules.split(separator: " ").map(String.init))
    }

    /// The error `rules` are refused with, or `nil` if they are accepted.
    static func rejection(_ rules: [String]) -> String? {
        do throws(ACLError) {
            var user = ACLUser(name: "alice")
            try user.apply(rules: rules)
            return nil
        } catch {
            return error.description
        }
    }

    static func buffers(_ words: String...) -> [ByteBuffer] {
        words.map { ByteBuffer(string: $0) }
    }
}
