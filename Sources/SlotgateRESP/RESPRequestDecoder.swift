//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore

/// Turns the bytes a client sends into requests: RESP multibulk and inline commands, however the
/// stream is fragmented.
///
/// The decoder remembers how far it got into a multibulk request, so a request that arrives one
/// byte at a time is scanned once, not once per byte. Offsets are kept relative to the buffer's
/// reader index, which the caller leaves alone until a request is complete. Each request's
/// argument offsets go into one array the decoder reuses (see ``RESPRequest``), so decoding
/// allocates nothing. Violations of the protocol or of ``RESPRequestLimits`` throw
/// ``RESPProtocolError`` with the message Redis uses.
public struct RESPRequestDecoder: ByteToMessageDecoder {
    public typealias InboundOut = RESPCommand

    /// How far a multibulk request has been read.
    private struct Progress {
        /// Arguments the header announced.
        var expectedCount: Int
        /// Arguments read so far.
        var readCount = 0
        /// The next byte to look at, relative to the request's first byte.
        var cursor: Int
        /// Set once an argument's `$len` line is read and its bytes are awaited.
        var awaitedBulkLength: Int?
    }

    private let limits: RESPRequestLimits
    private var progress: Progress?
    /// Offset and length of each argument of the request being read, relative to its first byte.
    private var offsets: [Int] = []
    /// Past this many offsets, the array is not kept for the next request.
    private static let keptOffsetCapacity = 8192

    public init(limits: RESPRequestLimits = RESPRequestLimits()) {
        self.limits = limits
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let command = try self.decode(buffer: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(command))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A request cut off by the client's close is dropped, as Redis drops it.
        try self.decode(context: context, buffer: &buffer)
    }

    /// Reads the next complete command from `buffer`, consuming its bytes; `nil` when more bytes are needed.
    public mutating func decode(buffer: inout ByteBuffer) throws(RESPProtocolError) -> RESPCommand? {
        try self.nextRequest(in: &buffer)?.command
    }

    /// How many more bytes the request begun at the front of a buffer holding `buffered` bytes
    /// needs at least, when the decoder knows; `nil` while it waits for a line end.
    public func bytesAwaited(buffered: Int) -> Int? {
        guard let progress = self.progress, let length = progress.awaitedBulkLength else { return nil }
        return progress.cursor + length + 2 - buffered
    }

    /// Reads the next complete request from `buffer`, consuming its bytes; `nil` when more bytes
    /// are needed. Empty requests (`*0`, blank inline lines) are consumed and skipped. An
    /// incomplete request holding more than the query buffer limit is an error.
    public mutating func nextRequest(in buffer: inout ByteBuffer) throws(RESPProtocolError) -> RESPRequest? {
        while let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) {
            let outcome: Outcome
            if self.progress == nil && first != UInt8(ascii: "*") {
                outcome = try self.decodeInline(&buffer)
            } else {
                outcome = try self.decodeMultibulk(&buffer)
            }
            switch outcome {
            case .request(let request): return request
            case .needMoreData:
                guard buffer.readableBytes <= self.limits.maxQueryBuffer else { throw .queryBufferLimit }
                return nil
            case .skipped: continue
            }
        }
        return nil
    }

    /// What one decoding step produced.
    private enum Outcome {
        case request(RESPRequest)
        case needMoreData
        case skipped
    }

    // MARK: - Multibulk

    private mutating func decodeMultibulk(_ buffer: inout ByteBuffer) throws(RESPProtocolError) -> Outcome {
        let scan = try buffer.withUnsafeReadableBytes { bytes throws(RESPProtocolError) in try self.scanMultibulk(bytes) }
        switch scan {
        case .needMoreData:
            return .needMoreData
        case .empty(let length):
            buffer.moveReaderIndex(forwardBy: length)
            return .skipped
        case .complete(let length):
            return .request(RESPRequest(wire: buffer.readSlice(length: length)!, offsets: self.offsets))
        }
    }

    /// What scanning the bytes of a multibulk request found.
    private enum MultibulkScan {
        case needMoreData
        /// An empty request (`*0`, `*-1`) of this many bytes.
        case empty(Int)
        /// A whole request of this many bytes.
        case complete(Int)
    }

    /// Goes on reading the multibulk request at the front of `bytes` where the last call stopped.
    private mutating func scanMultibulk(_ bytes: UnsafeRawBufferPointer) throws(RESPProtocolError) -> MultibulkScan {
        var progress: Progress
        if let existing = self.progress {
            progress = existing
        } else {
            guard let line = try self.line(in: bytes, from: 1, tooLong: .tooBigMultibulkCount) else { return .needMoreData }
            guard let count = parseDecimal(line.content), count <= self.limits.maxMultibulkCount else {
                throw .invalidMultibulkLength
            }
            if count <= 0 {
                return .empty(line.next)
            }
            progress = Progress(expectedCount: count, cursor: line.next)
            self.startRequest()
        }
        guard try self.readArguments(&progress, in: bytes) else {
            self.progress = progress
            return .needMoreData
        }
        self.progress = nil
        return .complete(progress.cursor)
    }

    /// Empties the offsets for a new request, keeping their storage unless a huge request grew it.
    private mutating func startRequest() {
        if self.offsets.capacity > Self.keptOffsetCapacity {
            self.offsets = []
        } else {
            self.offsets.removeAll(keepingCapacity: true)
        }
    }

    /// Reads as many announced arguments as `bytes` holds; `true` once all of them are there.
    private mutating func readArguments(_ progress: inout Progress, in bytes: UnsafeRawBufferPointer) throws(RESPProtocolError) -> Bool {
        while progress.readCount < progress.expectedCount {
            if progress.awaitedBulkLength == nil {
                guard progress.cursor < bytes.count else { return false }
                let marker = bytes[progress.cursor]
                if marker != UInt8(ascii: "$") { throw .expectedDollar(got: marker) }
                guard let line = try self.line(in: bytes, from: progress.cursor + 1, tooLong: .tooBigBulkCount) else { return false }
                guard let length = parseDecimal(line.content), length >= 0, length <= self.limits.maxBulkLength else {
                    throw .invalidBulkLength
                }
                progress.awaitedBulkLength = length
                progress.cursor = line.next
            }
            let length = progress.awaitedBulkLength!
            // The bulk and its trailing CRLF; like Redis, the two bytes after the bulk are not inspected.
            guard bytes.count - progress.cursor >= length + 2 else { return false }
            self.offsets.append(progress.cursor)
            self.offsets.append(length)
            progress.readCount += 1
            progress.cursor += length + 2
            progress.awaitedBulkLength = nil
        }
        return true
    }

    /// Finds the line that starts at offset `start` of `bytes` and ends in `\r\n`: its content, and
    /// the offset just past its end.
    private func line(
        in bytes: UnsafeRawBufferPointer,
        from start: Int,
        tooLong: RESPProtocolError
    ) throws(RESPProtocolError) -> (content: UnsafeRawBufferPointer, next: Int)? {
        guard start <= bytes.count else { return nil }
        let rest = UnsafeRawBufferPointer(rebasing: bytes[start...])
        guard let carriageReturn = rest.firstIndex(of: UInt8(ascii: "\r")) else {
            if rest.count > self.limits.maxInlineLength { throw tooLong }
            return nil
        }
        guard carriageReturn + 1 < rest.count else { return nil }
        return (UnsafeRawBufferPointer(rebasing: rest[..<carriageReturn]), start + carriageReturn + 2)
    }

    // MARK: - Inline

    private mutating func decodeInline(_ buffer: inout ByteBuffer) throws(RESPProtocolError) -> Outcome {
        let view = buffer.readableBytesView
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > self.limits.maxInlineLength { throw .tooBigInlineRequest }
            return .needMoreData
        }
        var lineEnd = newline
        if lineEnd > view.startIndex && view[lineEnd - 1] == UInt8(ascii: "\r") {
            lineEnd -= 1
        }
        let lineBytes = Array(view[view.startIndex..<lineEnd])
        buffer.moveReaderIndex(forwardBy: newline + 1 - view.startIndex)
        let words = try InlineCommandSplitter.split(lineBytes)
        guard !words.isEmpty else { return .skipped }
        // Nodes are spoken to in multibulk form: the request is encoded afresh.
        self.startRequest()
        var wire = ByteBuffer()
        wire.writeString("*\(words.count)\r\n")
        for word in words {
            wire.writeString("$\(word.count)\r\n")
            self.offsets.append(wire.writerIndex)
            self.offsets.append(word.count)
            wire.writeBytes(word)
            wire.writeStaticString("\r\n")
        }
        return .request(RESPRequest(wire: wire, offsets: self.offsets))
    }
}

extension ByteBuffer {
    /// The readable bytes as an integer under Redis's rules (`string2ll`): no spaces, no `+`, no
    /// leading zeros, no `-0`; `nil` when they are not such an integer.
    public var redisInteger: Int? {
        self.withUnsafeReadableBytes { parseRedisInteger($0) }
    }
}

/// Parses a signed decimal the way Redis's `string2ll` does: no spaces, no `+`, no leading zeros,
/// no `-0`; `nil` when the bytes are not such an integer.
public func parseRedisInteger(_ bytes: UnsafeRawBufferPointer) -> Int? {
    parseDecimal(bytes)
}

/// Parses a signed decimal the way Redis's `string2ll` does: no spaces, no `+`, no leading zeros.
func parseDecimal<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes) -> Int? where Bytes.Index == Int {
    guard !bytes.isEmpty, bytes.count <= 20 else { return nil }
    var index = bytes.startIndex
    let negative = bytes[index] == UInt8(ascii: "-")
    if negative {
        index += 1
        guard index < bytes.endIndex else { return nil }
    }
    // A zero digit first is only "0" itself: no leading zeros, no "-0".
    if bytes[index] == UInt8(ascii: "0") && (negative || bytes.endIndex - index > 1) { return nil }
    var value = 0
    while index < bytes.endIndex {
        let digit = bytes[index] &- UInt8(ascii: "0")
        guard digit <= 9 else { return nil }
        let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
        let (next, overflowB) = negative ? shifted.subtractingReportingOverflow(Int(digit)) : shifted.addingReportingOverflow(Int(digit))
        guard !overflowA, !overflowB else { return nil }
        value = next
        index += 1
    }
    return value
}
