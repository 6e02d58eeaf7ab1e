//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore

/// Turns the bytes a client sends into ``RESPCommand``s: RESP multibulk and inline commands,
/// however the stream is fragmented.
///
/// The decoder remembers how far it got into a multibulk request, so a request that arrives one
/// byte at a time is scanned once, not once per byte. Offsets are kept relative to the buffer's
/// reader index, which `ByteToMessageHandler` leaves alone until a request is complete.
/// Violations of the protocol or of ``RESPRequestLimits`` throw ``RESPProtocolError`` with the
/// message Redis uses.
public struct RESPRequestDecoder: ByteToMessageDecoder {
    public typealias InboundOut = RESPCommand

    /// How far a multibulk request has been read.
    private struct Progress {
        /// Arguments the header announced.
        var expectedCount: Int
        /// Where each argument read so far lies, relative to the request's first byte.
        var argumentOffsets: [(offset: Int, length: Int)]
        /// The next byte to look at, relative to the request's first byte.
        var cursor: Int
        /// Set once an argument's `$len` line is read and its bytes are awaited.
        var awaitedBulkLength: Int?
    }

    private let limits: RESPRequestLimits
    private var progress: Progress?

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
    /// Empty requests (`*0`, blank inline lines) are consumed and skipped. An incomplete request
    /// holding more than the query buffer limit is an error.
    public mutating func decode(buffer: inout ByteBuffer) throws(RESPProtocolError) -> RESPCommand? {
        while let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) {
            let outcome: Outcome
            if self.progress == nil && first != UInt8(ascii: "*") {
                outcome = try self.decodeInline(&buffer)
            } else {
                outcome = try self.decodeMultibulk(&buffer)
            }
            switch outcome {
            case .command(let command): return command
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
        case command(RESPCommand)
        case needMoreData
        case skipped
    }

    // MARK: - Multibulk

    private mutating func decodeMultibulk(_ buffer: inout ByteBuffer) throws(RESPProtocolError) -> Outcome {
        var progress: Progress
        if let existing = self.progress {
            progress = existing
        } else {
            guard let line = try self.line(in: buffer, from: 1, tooLong: .tooBigMultibulkCount) else { return .needMoreData }
            guard let count = Self.parseInteger(buffer, line.range), count <= self.limits.maxMultibulkCount else {
                throw .invalidMultibulkLength
            }
            if count <= 0 {
                buffer.moveReaderIndex(forwardBy: line.next)
                return .skipped
            }
            progress = Progress(expectedCount: count, argumentOffsets: [], cursor: line.next, awaitedBulkLength: nil)
            progress.argumentOffsets.reserveCapacity(min(count, 1024))
        }
        guard try self.readArguments(&progress, in: buffer) else {
            self.progress = progress
            return .needMoreData
        }
        self.progress = nil
        let wire = buffer.readSlice(length: progress.cursor)!
        let arguments = progress.argumentOffsets.map { wire.getSlice(at: wire.readerIndex + $0.offset, length: $0.length)! }
        return .command(RESPCommand(arguments: arguments, wire: wire))
    }

    /// Reads as many announced arguments as `buffer` holds; `true` once all of them are there.
    private func readArguments(_ progress: inout Progress, in buffer: ByteBuffer) throws(RESPProtocolError) -> Bool {
        while progress.argumentOffsets.count < progress.expectedCount {
            if progress.awaitedBulkLength == nil {
                guard let marker = buffer.getInteger(at: buffer.readerIndex + progress.cursor, as: UInt8.self) else { return false }
                if marker != UInt8(ascii: "$") { throw .expectedDollar(got: marker) }
                guard let line = try self.line(in: buffer, from: progress.cursor + 1, tooLong: .tooBigBulkCount) else { return false }
                guard let length = Self.parseInteger(buffer, line.range), length >= 0, length <= self.limits.maxBulkLength else {
                    throw .invalidBulkLength
                }
                progress.awaitedBulkLength = length
                progress.cursor = line.next
            }
            let length = progress.awaitedBulkLength!
            // The bulk and its trailing CRLF; like Redis, the two bytes after the bulk are not inspected.
            guard buffer.readableBytes - progress.cursor >= length + 2 else { return false }
            progress.argumentOffsets.append((progress.cursor, length))
            progress.cursor += length + 2
            progress.awaitedBulkLength = nil
        }
        return true
    }

    /// Finds the line that starts `start` bytes after the reader index and ends in `\r\n`.
    /// Returns its content range (absolute indexes) and the offset just past the line end.
    private func line(in buffer: ByteBuffer, from start: Int, tooLong: RESPProtocolError) throws(RESPProtocolError) -> (range: Range<Int>, next: Int)?
    {
        let view = buffer.readableBytesView
        let searchStart = view.startIndex + start
        guard searchStart <= view.endIndex else { return nil }
        guard let carriageReturn = view[searchStart...].firstIndex(of: UInt8(ascii: "\r")) else {
            if buffer.readableBytes - start > self.limits.maxInlineLength { throw tooLong }
            return nil
        }
        guard carriageReturn + 1 < view.endIndex else { return nil }
        return (searchStart..<carriageReturn, carriageReturn + 2 - view.startIndex)
    }

    /// Parses a signed decimal the way Redis's `string2ll` does: no spaces, no `+`, no leading zeros.
    static func parseInteger(_ buffer: ByteBuffer, _ range: Range<Int>) -> Int? {
        guard let bytes = buffer.getBytes(at: range.lowerBound, length: range.count) else { return nil }
        return parseDecimal(bytes[...])
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
        let arguments = words.map { ByteBuffer(bytes: $0) }
        var wire = ByteBuffer()
        wire.writeRESPCommand(arguments)
        return .command(RESPCommand(arguments: arguments, wire: wire))
    }
}

extension ByteBuffer {
    /// The readable bytes as an integer under Redis's rules (`string2ll`): no spaces, no `+`, no
    /// leading zeros, no `-0`; `nil` when they are not such an integer.
    public var redisInteger: Int? {
        parseDecimal(ArraySlice(self.readableBytesView))
    }
}

/// Parses a signed decimal the way Redis's `string2ll` does: no spaces, no `+`, no leading zeros.
func parseDecimal(_ bytes: ArraySlice<UInt8>) -> Int? {
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
