//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// What the cluster says about one command: its arity, flags and where its keys are.
///
/// Specs come from the cluster's own `COMMAND` reply (see ``CommandTable``). Container commands
/// such as `CONFIG` or `OBJECT` carry their subcommands, each a spec of its own named
/// `container|sub` as Redis names them.
public struct CommandSpec: Sendable {
    /// Lower-case name; `container|sub` for a subcommand.
    public let name: String
    /// Redis's arity: positive means exactly that many arguments, negative at least its magnitude.
    public let arity: Int
    /// Flags such as `readonly`, `write`, `movablekeys`, lower case.
    public let flags: Set<String>
    /// Where the keys are.
    public let keySpecs: [KeySpec]
    /// Subcommands by lower-case subcommand name (without the container prefix).
    public let subcommands: [String: CommandSpec]
    /// ACL categories, lower case and without the `@` (`read`, `string`, `fast`). A container's
    /// categories are its own; Redis's `+@category` also reaches the subcommands of a container in
    /// the category.
    public let categories: Set<String>
    /// The command only reads (`readonly` flag): a replica may serve it, and it may be sent again
    /// when a link drops before its reply.
    public let isReadOnly: Bool

    public init(
        name: String,
        arity: Int,
        flags: Set<String>,
        keySpecs: [KeySpec],
        subcommands: [String: CommandSpec] = [:],
        categories: Set<String> = []
    ) {
        self.name = name
        self.arity = arity
        self.flags = flags
        self.keySpecs = keySpecs
        self.subcommands = subcommands
        self.categories = categories
        self.isReadOnly = flags.contains("readonly") && !flags.contains("write")
    }

    /// Whether the key specs alone cannot be trusted to find every key, so the cluster must be asked.
    public var needsKeyLookup: Bool {
        self.keySpecs.contains { !$0.isComplete }
    }

    /// Whether `argumentCount` arguments (the name included) satisfy the arity.
    public func acceptsArgumentCount(_ argumentCount: Int) -> Bool {
        self.arity >= 0 ? argumentCount == self.arity : argumentCount >= -self.arity
    }
}
