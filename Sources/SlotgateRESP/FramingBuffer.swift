//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore

/// The bytes a reply framer was fed and has not returned yet, kept so that returning a reply
/// copies nothing in the common case and never copies a byte twice.
///
/// Replies are cut as slices of the read they arrived in (`current`). A slice shares its read's
/// storage, so appending the next read to that storage would copy all of it (copy-on-write), on
/// every read, for as long as any reply sliced from it is still on its way to a client. Instead,
/// a reply left incomplete when a read is used up has its bytes moved to `carried`, a buffer of
/// the framer's own, and only the rest of that reply is copied after them once it arrives. So the
/// copying is bounded by the size of the replies that straddle two reads, and a read's storage is
/// released as soon as its replies are written out.
struct FramingBuffer {
    /// The start of the reply at the front when it began in an earlier read; never shared.
    private var carried: ByteBuffer?
    /// What is left of the latest read.
    private var current: ByteBuffer?

    /// Bytes held, not yet taken.
    var count: Int { (self.carried?.readableBytes ?? 0) + (self.current?.readableBytes ?? 0) }

    /// Adds a read. What is left of the previous read moves to the framer's own buffer first.
    mutating func append(_ bytes: ByteBuffer) {
        if let rest = self.current, rest.readableBytes > 0 {
            if self.carried == nil {
                self.carried = ByteBufferAllocator().buffer(capacity: rest.readableBytes + bytes.readableBytes)
            }
            self.carried!.writeImmutableBuffer(rest)
        }
        self.current = bytes
    }

    /// Removes and returns the first `length` bytes; `nil` if fewer are held.
    mutating func take(_ length: Int) -> ByteBuffer? {
        guard length <= self.count else { return nil }
        guard var carried = self.carried else {
            return self.takeFromCurrent(length)
        }
        self.carried = nil
        if length < carried.readableBytes {
            // Only after a caller took less than a whole read's leftovers: keep the rest.
            let front = carried.readSlice(length: length)
            self.carried = carried
            return front
        }
        let missing = length - carried.readableBytes
        if missing > 0, let tail = self.takeFromCurrent(missing) {
            carried.writeImmutableBuffer(tail)
        }
        return carried
    }

    private mutating func takeFromCurrent(_ length: Int) -> ByteBuffer? {
        let slice = self.current?.readSlice(length: length)
        if self.current?.readableBytes == 0 {
            self.current = nil
        }
        return slice
    }

    /// Calls `body` with the held bytes from `offset` on, as up to two contiguous runs, in order,
    /// until it returns `false`. `runOffset` is where the run starts among the held bytes.
    func forEachRun<Failure: Error>(
        from offset: Int,
        _ body: (_ run: UnsafeRawBufferPointer, _ runOffset: Int) throws(Failure) -> Bool
    ) throws(Failure) {
        var runStart = 0
        if let carried = self.carried {
            guard try Self.visit(carried, at: runStart, from: offset, body) else { return }
            runStart += carried.readableBytes
        }
        if let current = self.current {
            _ = try Self.visit(current, at: runStart, from: offset, body)
        }
    }

    /// Hands `body` the part of `run` (held from `runStart` on) at or after `offset`; `true` to go on.
    private static func visit<Failure: Error>(
        _ run: ByteBuffer,
        at runStart: Int,
        from offset: Int,
        _ body: (UnsafeRawBufferPointer, Int) throws(Failure) -> Bool
    ) throws(Failure) -> Bool {
        let runEnd = runStart + run.readableBytes
        guard offset < runEnd else { return true }
        let skip = max(offset - runStart, 0)
        return try run.withUnsafeReadableBytes { bytes throws(Failure) in
            try body(UnsafeRawBufferPointer(rebasing: bytes[skip...]), runStart + skip)
        }
    }
}
