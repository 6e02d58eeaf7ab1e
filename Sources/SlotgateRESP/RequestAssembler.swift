//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore

/// Cuts a client's reads into requests, copying no byte of a request that arrives in one read.
///
/// Requests are decoded straight from the read they arrived in, so their bytes stay slices of it.
/// A request cut off by the end of a read is moved to a buffer of the session's own (`carried`),
/// and the next read's bytes are added to it one token at a time (a line, or a bulk whose length
/// is known) only until that request is complete; the rest of the read is decoded in place again.
/// A read's storage is therefore never appended to while its slices are in flight, which would
/// copy all of it, and NIO can reuse it for the next read once its requests are answered.
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

    /// Feeds the carried request from the current read, a token at a time, until it is complete
    /// or the read is used up.
    private mutating func completeCarriedRequest() throws(RESPProtocolError) -> RESPRequest? {
        while true {
            if let request = try self.decoder.nextRequest(in: &self.carried!) {
                if self.carried!.readableBytes == 0 {
                    self.carried = nil
                }
                return request
            }
            guard var rest = self.current, rest.readableBytes > 0 else {
                self.current = nil
                return nil
            }
            let wanted =
                self.decoder.bytesAwaited(buffered: self.carried!.readableBytes)
                ?? rest.readableBytesView.firstIndex(of: UInt8(ascii: "\n")).map { $0 - rest.readerIndex + 1 }
                ?? rest.readableBytes
            var token = rest.readSlice(length: min(wanted, rest.readableBytes))!
            self.carried!.writeBuffer(&token)
            self.current = rest
        }
    }
}
