//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore

/// Reads parts of replies the proxy must look into (the elements of fan-out parts, bulk texts,
/// integers) straight from their bytes, without decoding whole replies into values.
public enum RESPReplyScanner {}

extension RESPReplyScanner {
    /// The number on the first line of `reply` when it starts with one of `markers`, and where the
    /// bytes after that line begin; `nil` for other replies.
    private static func header(of reply: ByteBuffer, markers: Set<UInt8>) -> (number: Int, bodyIndex: Int)? {
        guard let marker = reply.getInteger(at: reply.readerIndex, as: UInt8.self), markers.contains(marker),
            let lineEnd = reply.readableBytesView.firstIndex(of: UInt8(ascii: "\r")),
            let number = parseDecimal(ArraySlice(reply.readableBytesView[(reply.readerIndex + 1)..<lineEnd]))
        else { return nil }
        return (number, lineEnd + 2)
    }

    /// The elements of a complete array reply (or a RESP3 push or set), each as its own bytes;
    /// `nil` for other kinds (a null array `*-1` has no elements and gives `[]`).
    public static func elements(ofArray reply: ByteBuffer) -> [ByteBuffer]? {
        self.framedElements(ofArray: reply)?.map(\.bytes)
    }

    /// The elements of a complete array reply (or a RESP3 push or set), each framed with its kind;
    /// `nil` for other kinds.
    public static func framedElements(ofArray reply: ByteBuffer) -> [FramedReply]? {
        guard let (count, body) = self.arrayBody(reply) else { return nil }
        var rest = body
        var elements: [FramedReply] = []
        elements.reserveCapacity(count)
        for _ in 0..<count {
            guard let (length, kind) = try? RESP3ReplyFramer.measure(rest), let element = rest.readSlice(length: length) else { return nil }
            elements.append(FramedReply(kind: kind, bytes: element))
        }
        return elements
    }

    /// How many elements an array reply (or a RESP3 push or set) has, and the bytes after its
    /// header, where they are; `nil` for other kinds (a null array counts 0).
    public static func arrayBody(_ reply: ByteBuffer) -> (count: Int, elements: ByteBuffer)? {
        guard let (count, bodyIndex) = self.header(of: reply, markers: self.sequenceMarkers) else { return nil }
        var rest = reply
        rest.moveReaderIndex(to: bodyIndex)
        return (max(count, 0), rest)
    }

    /// Takes the value at the front of `elements` (see ``arrayBody(_:)``); `nil` when none is
    /// complete there. Elements may be RESP3 values (a RESP3 link's MGET parts, pushes).
    public static func takeElement(from elements: inout ByteBuffer) -> ByteBuffer? {
        guard let (length, _) = try? RESP3ReplyFramer.measure(elements) else { return nil }
        return elements.readSlice(length: length)
    }

    /// The content of a bulk string reply (`$3\r\nabc\r\n` gives `abc`); `nil` for other kinds.
    public static func bulkPayload(_ reply: ByteBuffer) -> ByteBuffer? {
        guard let (length, bodyIndex) = self.header(of: reply, markers: [UInt8(ascii: "$")]), length >= 0 else { return nil }
        return reply.getSlice(at: bodyIndex, length: length)
    }

    /// The text of a RESP3 verbatim string (`=len\r\ntxt:…`), without its format prefix; `nil` for other kinds.
    public static func verbatimText(_ reply: ByteBuffer) -> String? {
        guard let (length, bodyIndex) = self.header(of: reply, markers: [UInt8(ascii: "=")]), length >= 4 else { return nil }
        return reply.getString(at: bodyIndex + 4, length: length - 4)
    }

    /// The text of a bulk string reply; `nil` for other kinds.
    public static func bulkText(_ reply: ByteBuffer) -> String? {
        self.bulkPayload(reply).map { String(buffer: $0) }
    }

    /// Arrays, and RESP3's pushes and sets: sequences of values.
    private static let sequenceMarkers: Set<UInt8> = Set("*>~".utf8)
}

extension FramedReply {
    /// The value of an integer reply (`:42`); `nil` for other kinds.
    public var integerValue: Int? {
        guard self.kind == .integer else { return nil }
        var digits = self.bytes
        digits.moveReaderIndex(forwardBy: 1)
        guard let end = digits.readableBytesView.firstIndex(of: UInt8(ascii: "\r")) else { return nil }
        return digits.getSlice(at: digits.readerIndex, length: end - digits.readerIndex)?.redisInteger
    }
}
