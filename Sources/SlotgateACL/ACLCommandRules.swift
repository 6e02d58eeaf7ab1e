//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateCluster

/// Which commands a user may run: `+@all` or `-@all`, then the command and category rules given
/// after it, in order, the last one that names a command deciding for it.
///
/// Redis turns each rule into bits of a per-command bitmap as it is applied, which needs the
/// command table; users are read from the configuration before the cluster's table is known, so
/// the rules are kept and read when a command is checked. The outcome is the same: a command's
/// bit is the value of the last rule whose commands include it, or the `@all` one. Rules a later
/// rule overrides entirely, and leading rules that agree with `@all`, are dropped as rules are
/// added, so the list stays short and reads back as itself.
struct ACLCommandRules: Sendable, Equatable {
    /// What one rule names.
    enum Target: Sendable, Hashable {
        /// `get`: the command, and all its subcommands if it is a container; `config|get`: that
        /// subcommand alone.
        case command(String)
        /// `read`: every command in the category.
        case category(String)

        func includes(_ command: ACLCommand) -> Bool {
            switch self {
            case .command(let name):
                command.name == name
                    || (command.name.utf8.starts(with: name.utf8) && command.name.utf8.dropFirst(name.utf8.count).first == UInt8(ascii: "|"))
            case .category(let category):
                command.categories.contains(category)
            }
        }

        /// Whether every command this target names is also named by `other`.
        func isCovered(by other: Target) -> Bool {
            switch (self, other) {
            case (.command(let name), .command(let covering)):
                name == covering || name.hasPrefix(covering + "|")
            default:
                self == other
            }
        }
    }

    struct Rule: Sendable, Equatable {
        let allows: Bool
        let target: Target
    }

    /// `+@all` (`allcommands`), or `-@all` (`nocommands`), the state before the rules.
    private(set) var allowsAll = false
    private(set) var rules: [Rule] = []

    /// `+@all` or `-@all`: every earlier rule is forgotten.
    mutating func setAll(allowed: Bool) {
        self.allowsAll = allowed
        self.rules = []
    }

    mutating func add(_ rule: Rule) {
        self.rules.removeAll { $0.target.isCovered(by: rule.target) }
        self.rules.append(rule)
        // Rules before the first that differs from `@all` change nothing.
        self.rules.removeFirst(self.rules.prefix { $0.allows == self.allowsAll }.count)
    }

    func allows(_ command: ACLCommand) -> Bool {
        command.isExempt || (self.rules.last { $0.target.includes(command) }?.allows ?? self.allowsAll)
    }

    /// The rules as `ACL LIST` shows them: `-@all +@read -get`.
    var description: String {
        ([self.allowsAll ? "+@all" : "-@all"] + self.rules.map(\.description)).joined(separator: " ")
    }

    /// The command names the rules give (`+select|0` included) that are neither a command nor a
    /// subcommand of `table`: Redis refuses these, but the table is not known when the
    /// configuration is read.
    func unknownCommands(in table: CommandTable) -> [String] {
        self.rules.compactMap { rule in
            guard case .command(let name) = rule.target else { return nil }
            let parts = name.split(separator: "|", maxSplits: 1).map(String.init)
            let spec = table[parts[0]]
            let known = parts.count == 1 ? spec != nil : spec?.subcommands[parts[1]] != nil
            return known ? nil : name
        }
    }
}

extension ACLCommandRules.Rule: CustomStringConvertible {
    var description: String {
        switch self.target {
        case .command(let name): (self.allows ? "+" : "-") + name
        case .category(let category): (self.allows ? "+@" : "-@") + category
        }
    }
}
