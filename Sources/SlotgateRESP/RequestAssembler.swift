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
/// The carried request grows by at least what it already holds at each step (or by the token the
/// decoder awaits, when that is more), so a request of a million small arguments spread over many
/// reads is decoded in a few steps per read rather than one step per argument. A step may take
/// bytes past the request's end; they are handed back to the read, which goes on in place.
public struct RequestAssembler {
    private var decoder: RESPRequestDecoder
    /// The start of a request that began in an earlier read; never shared.
    private var carried: ByteBuffer?
    /// What is left of the latest read.
    private var current: ByteBuffer?

    public init(limits: RESPRequestLimits) {
        self.decoder = RESPRequestDecoder(limits: limits)
    }

    /// Bytes received and not yet taken as a request (`qbuf` in `CLIENT LIST`).
    public var bufferedBytes: Int {
        (self.carried?.readableBytes ?? 0) + (self.current?.readableBytes ?? 0)
    }

    /// Adds a read; call ``next()`` until it returns `nil` before adding another.
    public mutating func append(_ bytes: ByteBuffer) {
        self.current = bytes
    }

    /// The next complete request, or `nil` until more bytes arrive. The request is valid until
    /// the next call.
    public mutating func next() throws(RESPProtocolError) -> RESPRequest? {
        if self.carried != nil {
            guard let request = try self.completeCarriedRequest() else { return nil }
            return request
        }
        guard self.current != nil else { return nil }
        if let request = try self.decoder.nextRequest(in: &self.current!) {
            return request
        }
        if let rest = self.current, rest.readableBytes > 0 {
            var own = ByteBufferAllocator().buffer(capacity: max(rest.readableBytes * 2, 256))
            own.writeImmutableBuffer(rest)
            self.carried = own
        }
        self.current = nil
        return nil
    }

    /// Feeds the carried request from the current read until it is complete or the read is used up.
    private mutating func completeCarriedRequest() throws(RESPProtocolError) -> RESPRequest? {
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
            let token =
                self.decoder.bytesAwaited(buffered: buffered)
                ?? self.current!.readableBytesView.firstIndex(of: UInt8(ascii: "\n")).map { $0 - self.current!.readerIndex + 1 }
                ?? available
            var step = self.current!.readSlice(length: min(max(token, buffered), available))!
            self.carried!.writeBuffer(&step)
        }
    }
}
