//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore

/// Read access to a request's arguments, whether the request is the decoder's passing view of
/// the client's bytes (``RESPRequest``) or a command kept for later (``RESPCommand``), so code
/// that only reads arguments is written once for both.
public protocol CommandArguments {
    /// How many arguments, the command name included.
    var argumentCount: Int { get }

    /// Calls `body` with the bytes of argument `index` (0 is the command name).
    func withArgument<Result>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result
}

extension RESPRequest: CommandArguments {}

extension RESPCommand: CommandArguments {
    public var argumentCount: Int { self.arguments.count }

    public func withArgument<Result>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try self.arguments[index].withUnsafeReadableBytes(body)
    }
}
