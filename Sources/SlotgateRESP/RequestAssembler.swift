//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore

/// Cuts a client's reads into requests, copying no byte of a request that arrives in one read.
///
/// Requests are decoded straight from the read they arrived in, so their bytes stay slices of it.
/// A request cut off by the end of a read is moved to a buffer of the session's own (`carried`),
/// and the next read's bytes are added to it only until that request is complete; the rest of the
/// read is decoded in place again. A read's storage is therefore never appended to while its
/// slices are in flight, which would copy all of it, and NIO can reuse it for the next read once
/// its requests are answered.
///
/// A step adds exactly the rest of a bulk the decoder awaits. One that waits for a line adds at
/// least the line, and as many bytes as the request already holds, so a request of a million
/// small arguments spread over many reads takes a few steps per read rather than one per
/// argument. Bytes such a step takes past the request's end go back to the read, which goes on
/// in place.
public struct RequestAssembler {
    // Internal for the inlinable ``next()``, which a session runs for every request: inlined
    // into the session, its common path is one call to the decoder.
    @usableFromInline var decoder: RESPRequestDecoder
    /// The start of a request that began in an earlier read; never shared.
    @usableFromInline var carried: ByteBuffer?
    /// What is left of the latest read.
    @usableFromInline var current: ByteBuffer?

    public init(limits: RESPRequestLimits) {
        self.decoder = RESPRequestDecoder(limits: limits)
    }

    /// Bytes received and not yet taken as a request (`qbuf` in `CLIENT LIST`).
    public var bufferedBytes: Int {
        (self.carried?.readableBytes ?? 0) + (self.current?.readableBytes ?? 0)
    }

    /// Adds a read; call ``next()`` until it returns `nil` before adding another.
    @inlinable
    public mutating func append(_ bytes: ByteBuffer) {
        self.current = bytes
    }

    /// The next complete request, or `nil` until more bytes arrive. The request is valid until
    /// the next call.
    @inlinable
    public mutating func next() throws(RESPProtocolError) -> RESPRequest? {
        if self.carried != nil {
            return try self.completeCarriedRequest()
        }
        guard self.current != nil else { return nil }
        if let request = try self.decoder.nextRequest(in: &self.current!) {
            return request
        }
        self.carryRest()
        return nil
    }

    /// Moves what is left of the read, the start of a request, to a buffer of the session's own.
    @usableFromInline
    mutating func carryRest() {
        if let rest = self.current, rest.readableBytes > 0 {
            var own = ByteBufferAllocator().buffer(capacity: max(rest.readableBytes * 2, 256))
            own.writeImmutableBuffer(rest)
            self.carried = own
        }
        self.current = nil
    }

    /// Feeds the carried request from the current read until it is complete or the read is used up.
    @usableFromInline
    mutating func completeCarriedRequest() throws(RESPProtocolError) -> RESPRequest? {
        while true {
            if let request = try self.decoder.nextRequest(in: &self.carried!) {
                // Before the last step the request was incomplete, so whatever follows it in
                // `carried` came from that step, and goes back to the read.
                let surplus = self.carried!.readableBytes
                self.carried = nil
                if surplus > 0 {
                    self.current!.moveReaderIndex(to: self.current!.readerIndex - surplus)
                }
                return request
            }
            guard let available = self.current?.readableBytes, available > 0 else {
                self.current = nil
                return nil
            }
            let buffered = self.carried!.readableBytes
            let wanted: Int
            if let bulk = self.decoder.bytesAwaited(buffered: buffered) {
                wanted = bulk
            } else {
                let line =
                    self.current!.readableBytesView.firstIndex(of: UInt8(ascii: "\n")).map { $0 - self.current!.readerIndex + 1 }
                    ?? available
                wanted = max(line, buffered)
            }
            var step = self.current!.readSlice(length: min(wanted, available))!
            self.carried!.writeBuffer(&step)
        }
    }
}
