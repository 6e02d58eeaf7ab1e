//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateCluster

/// Redis 7.0's ACL command categories, for `+@category` rules and `ACL CAT`.
public enum ACLCategory {
    /// Every category, in the order `ACL CAT` lists them.
    public static let all = [
        "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog", "geo", "stream", "pubsub",
        "admin", "fast", "slow", "blocking", "dangerous", "connection", "transaction", "scripting",
    ]

    /// `ACL CAT category`: the full names of the commands and subcommands of `table` in the
    /// category (any case), sorted; a container in it is listed, not its subcommands unless they
    /// are in it too. Module commands are left out, as Redis leaves them out. `nil` when there is
    /// no such category, which Redis answers with `ERR Unknown category '…'`.
    public static func commands(in category: String, of table: CommandTable) -> [String]? {
        let category = category.lowercased()
        guard Self.all.contains(category) else { return nil }
        var names: [String] = []
        for spec in table.specs where !spec.flags.contains("module") {
            for command in [spec] + spec.subcommands.values where command.categories.contains(category) {
                names.append(command.name)
            }
        }
        return names.sorted()
    }
}
