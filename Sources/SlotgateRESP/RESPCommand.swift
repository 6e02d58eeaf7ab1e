//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore

/// One request from a client, as it came off the wire.
///
/// Slotgate forwards most commands without looking inside them, so a command keeps the bytes it
/// arrived in (`wire`, RESP multibulk) next to views of its arguments. Both are slices of the
/// read buffer: parsing copies nothing. An inline command (`GET k` typed into telnet) is the one
/// case where `wire` is encoded afresh, because nodes are always spoken to in multibulk form.
public struct RESPCommand: Sendable {
    /// The arguments, the command name first. Never empty.
    public var arguments: [ByteBuffer]
    /// The command as RESP multibulk bytes, ready to be written to a node.
    public var wire: ByteBuffer

    public init(arguments: [ByteBuffer], wire: ByteBuffer) {
        precondition(!arguments.isEmpty, "a command has at least its name")
        self.arguments = arguments
        self.wire = wire
    }

    /// Builds a command from strings, encoding its wire form; for commands the proxy writes itself.
    public init(_ arguments: [String]) {
        var wire = ByteBuffer()
        wire.writeRESPCommand(arguments)
        self.init(arguments: arguments.map { ByteBuffer(string: $0) }, wire: wire)
    }

    /// The command name folded to lower case, as Redis compares it.
    public var lowercasedName: String {
        self.argumentString(0).lowercased()
    }

    /// The argument at `index` decoded as UTF-8 (invalid bytes are replaced).
    public func argumentString(_ index: Int) -> String {
        String(buffer: self.arguments[index])
    }
}
