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

    /// Calls `body` with argument `index` as the client encoded it, a bulk string
    /// (`$len\r\nbytes\r\n`), when those bytes are at hand and well formed; `nil` otherwise.
    func withEncodedArgument<Result>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result?
}

extension ByteBuffer {
    /// Writes argument `index` of `arguments` as a bulk string: the client's own bytes in one
    /// copy when they are at hand, else encoded afresh.
    @inlinable
    public mutating func writeRESPBulkString(argument index: Int, of arguments: some CommandArguments) {
        let copied = arguments.withEncodedArgument(index) { self.writeBytes($0) }
        if copied == nil {
            arguments.withArgument(index) { self.writeRESPBulkString(bytes: $0) }
        }
    }
}

extension RESPRequest: CommandArguments {
    @inlinable
    public func withEncodedArgument<Result>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result? {
        let offset = self.offsets[2 &* index]
        let length = self.offsets[2 &* index &+ 1]
        // The decoder accepted the length line only in canonical form: `$`, the digits, CR, and
        // one more byte, which a well-formed request has as LF, as it has CRLF after the bytes.
        var digits = 1
        var rest = length / 10
        while rest > 0 {
            digits &+= 1
            rest /= 10
        }
        let start = offset &- digits &- 3
        let end = offset &+ length &+ 2
        return try self.wire.withUnsafeReadableBytes { bytes in
            guard start >= 0, end <= bytes.count, bytes[offset &- 1] == UInt8(ascii: "\n"), bytes[end &- 2] == UInt8(ascii: "\r"),
                bytes[end &- 1] == UInt8(ascii: "\n")
            else { return nil }
            return try body(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
        }
    }
}

extension RESPCommand: CommandArguments {
    @inlinable
    public var argumentCount: Int { self.arguments.count }

    @inlinable
    public func withArgument<Result>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try self.arguments[index].withUnsafeReadableBytes(body)
    }

    /// A kept command's arguments are slices of their bytes alone, without their encoding.
    @inlinable
    public func withEncodedArgument<Result>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result? {
        nil
    }
}
