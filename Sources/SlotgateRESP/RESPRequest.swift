//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore

/// One request as the decoder found it in the client's bytes: the bytes themselves (`wire`, RESP
/// multibulk) and where each argument lies in them. Nothing is copied and nothing is allocated:
/// the offsets live in the decoder's own array, reused for every request as long as no request
/// outlives the next call to the decoder. Whoever keeps a request longer turns it into a
/// ``RESPCommand`` (``command``).
public struct RESPRequest {
    /// The request as RESP multibulk bytes, ready to be written to a node.
    public let wire: ByteBuffer
    /// Offset and length of each argument, in turn, relative to `wire`'s reader index.
    @usableFromInline
    let offsets: [Int]

    @inlinable
    init(wire: ByteBuffer, offsets: [Int]) {
        self.wire = wire
        self.offsets = offsets
    }

    /// How many arguments, the command name included. Never 0.
    @inlinable
    public var argumentCount: Int { self.offsets.count &>> 1 }

    /// Calls `body` with the bytes of argument `index` (0 is the command name).
    @inlinable
    public func withArgument<Result>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        let offset = self.offsets[2 &* index]
        let length = self.offsets[2 &* index &+ 1]
        return try self.wire.withUnsafeReadableBytes { bytes in
            try body(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset &+ length)]))
        }
    }

    /// Argument `index` as a slice of `wire`.
    @inlinable
    public func argument(_ index: Int) -> ByteBuffer {
        self.wire.getSlice(at: self.wire.readerIndex &+ self.offsets[2 &* index], length: self.offsets[2 &* index &+ 1])!
    }

    /// The request as a command of its own, which may be kept for as long as needed.
    public var command: RESPCommand {
        RESPCommand(arguments: (0..<self.argumentCount).map(self.argument), wire: self.wire)
    }
}
