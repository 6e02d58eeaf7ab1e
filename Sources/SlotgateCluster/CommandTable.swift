//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateRESP
import Synchronization

/// Every command the cluster knows, with its key positions, loaded from the cluster's own
/// `COMMAND` reply when the proxy starts.
///
/// It answers the router's two questions: is this a command the cluster accepts with this many
/// arguments, and which arguments are its keys. The error texts for unknown commands and wrong
/// arity are the ones Redis itself gives.
public struct CommandTable: Sendable {
    private let commands: [String: CommandSpec]
    /// Tells tables apart cheaply: each table built gets its own number, so an event loop knows
    /// when the table in a new view is a new one.
    public let generation: Int

    public init(_ commands: [CommandSpec]) {
        self.commands = Dictionary(commands.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.generation = Self.generations.add(1, ordering: .relaxed).newValue
    }

    private static let generations = Atomic<Int>(0)

    /// How many top-level commands the table holds.
    public var count: Int { self.commands.count }

    /// Every top-level command's spec, in no particular order.
    public var specs: some Collection<CommandSpec> { self.commands.values }

    /// The spec of a top-level command by lower-case name.
    public subscript(name: String) -> CommandSpec? { self.commands[name] }

    /// The outcome of looking a request up.
    public enum Lookup: Sendable {
        case found(CommandSpec)
        /// The error text to send, without the leading `-`.
        case rejected(String)
    }

    /// Finds the spec for a request (descending into a container's subcommand) and checks its arity.
    public func lookup(_ arguments: [ByteBuffer]) -> Lookup {
        let typedName = String(buffer: arguments[0])
        guard let spec = self.commands[typedName.lowercased()] else {
            return .rejected(Self.unknownCommandMessage(typedName, arguments))
        }
        guard spec.acceptsArgumentCount(arguments.count) else {
            return .rejected(Self.arityMessage(spec.name))
        }
        // A container named alone (bare `COMMAND`) is a command of its own when its arity allows it.
        guard !spec.subcommands.isEmpty, arguments.count >= 2 else { return .found(spec) }
        let typedSubcommand = String(buffer: arguments[1])
        guard let subcommand = spec.subcommands[typedSubcommand.lowercased()] else {
            let shown = String(decoding: typedSubcommand.utf8.prefix(128), as: UTF8.self)
            return .rejected("ERR unknown subcommand '\(shown)'. Try \(typedName.uppercased()) HELP.")
        }
        guard subcommand.acceptsArgumentCount(arguments.count) else {
            return .rejected(Self.arityMessage(subcommand.name))
        }
        return .found(subcommand)
    }

    /// Calls `visit` with the index of each key of a request whose spec is `spec`.
    public static func visitKeyIndexes(of spec: CommandSpec, in arguments: [ByteBuffer], _ visit: (Int) -> Void) {
        for keySpec in spec.keySpecs {
            self.visitKeyIndexes(of: keySpec, in: arguments, visit)
        }
    }

    /// Calls `visit` with the index of each argument `keySpec` finds.
    public static func visitKeyIndexes(of keySpec: KeySpec, in arguments: [ByteBuffer], _ visit: (Int) -> Void) {
        keySpec.visitKeyIndexes(
            argumentCount: arguments.count,
            argumentEquals: { index, keyword in arguments[index].withUnsafeReadableBytes { KeySpec.matches($0, keyword: keyword) } },
            integerArgument: { arguments[$0].redisInteger },
            visit
        )
    }

    /// Redis's text for a wrong argument count.
    public static func arityMessage(_ fullName: String) -> String {
        "ERR wrong number of arguments for '\(fullName)' command"
    }

    /// Redis's text for a command it does not know, quoting the first arguments. Like Redis, it
    /// counts bytes: the name is cut at 128 and the quoted arguments stop once 128 bytes are used.
    public static func unknownCommandMessage(_ typedName: String, _ arguments: [ByteBuffer]) -> String {
        var quoted: [UInt8] = []
        for argument in arguments.dropFirst() where quoted.count < 128 {
            quoted += Array("'".utf8) + argument.readableBytesView.prefix(128 - quoted.count) + Array("' ".utf8)
        }
        let name = String(decoding: typedName.utf8.prefix(128), as: UTF8.self)
        return "ERR unknown command '\(name)', with args beginning with: \(String(decoding: quoted, as: UTF8.self))"
    }
}
