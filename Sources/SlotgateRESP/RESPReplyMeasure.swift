//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// Finds where a RESP3 reply ends (RESP2 is a subset) while its bytes stream in, looking at each
/// byte once, however the stream is cut.
///
/// Every RESP3 type is measured: maps `%`, sets `~`, pushes `>`, attributes `|`, nulls `_`,
/// booleans `#`, doubles `,`, big numbers `(`, blob errors `!`, verbatim strings `=`, and the
/// RESP2 ones. An attribute is measured together with the reply it annotates. The walk keeps a
/// count of values still to read rather than a stack, so depth costs nothing, and it remembers
/// where it stopped, so a big aggregate arriving in many small reads is not walked again from its
/// start on every read.
struct RESPReplyMeasure {
    /// What the next byte is.
    private enum Step {
        /// A value's type marker.
        case marker
        /// The digits of a length or count line, after `marker`.
        case number(marker: UInt8, isReplyItself: Bool)
        /// The line feed after a length or count line.
        case numberEnd(marker: UInt8, isReplyItself: Bool)
        /// The rest of a one-line value, up to its carriage return.
        case text
        /// The line feed after a one-line value.
        case textEnd
        /// A blob's bytes and their line end, `remaining` of them.
        case payload(remaining: Int)
    }

    private var step = Step.marker
    /// Values of the reply not yet read in full, the one being read included.
    private var valuesToRead = 1
    /// The reply's own kind, once its marker is read (an attribute in front of it has none).
    private var kind: RESPReplyKind?
    /// Bytes of the reply looked at so far.
    private(set) var measured = 0
    /// The length line being read.
    private var number = LengthLine()

    init() {}

    /// Looks at `bytes`, the next bytes of the stream. Returns the reply's total length and kind
    /// once it ends within them (and starts over for the next reply), `nil` while it goes on.
    /// - Throws: ``RESPReplyFramingError`` for bytes that are not RESP.
    mutating func scan(_ bytes: UnsafeRawBufferPointer) throws(RESPReplyFramingError) -> (length: Int, kind: RESPReplyKind)? {
        var index = 0
        let end = bytes.count
        while index < end {
            switch self.step {
            case .marker:
                let marker = bytes[index]
                index += 1
                let isReplyItself = self.valuesToRead == 1 && self.kind == nil
                self.valuesToRead -= 1
                if Self.isLineMarker(marker) {
                    if isReplyItself {
                        self.kind = Self.kind(of: marker, negativeLength: false)
                    }
                    self.step = .text
                } else if Self.isLengthMarker(marker) {
                    self.number = LengthLine()
                    self.step = .number(marker: marker, isReplyItself: isReplyItself)
                } else {
                    throw RESPReplyFramingError(message: "unexpected byte \(marker) in a reply")
                }
            case .number(let marker, let isReplyItself):
                while index < end && bytes[index] != UInt8(ascii: "\r") {
                    try self.number.add(bytes[index])
                    index += 1
                }
                if index < end {
                    index += 1
                    self.step = .numberEnd(marker: marker, isReplyItself: isReplyItself)
                }
            case .numberEnd(let marker, let isReplyItself):
                index += 1
                let count = try self.number.value()
                if isReplyItself && marker != UInt8(ascii: "|") {
                    self.kind = Self.kind(of: marker, negativeLength: count < 0)
                }
                if let length = self.headerRead(marker: marker, count: count, at: index) {
                    return length
                }
            case .text:
                let rest = UnsafeRawBufferPointer(rebasing: bytes[index...])
                guard let carriageReturn = rest.firstIndex(of: UInt8(ascii: "\r")) else {
                    index = end
                    break
                }
                index += carriageReturn + 1
                self.step = .textEnd
            case .textEnd:
                index += 1
                if let length = self.valueRead(at: index) {
                    return length
                }
            case .payload(let remaining):
                let skipped = min(remaining, end - index)
                index += skipped
                if skipped < remaining {
                    self.step = .payload(remaining: remaining - skipped)
                } else if let length = self.valueRead(at: index) {
                    return length
                }
            }
        }
        self.measured += end
        return nil
    }

    /// A length or count line was read: what follows it.
    private mutating func headerRead(marker: UInt8, count: Int, at index: Int) -> (length: Int, kind: RESPReplyKind)? {
        switch marker {
        case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
            guard count < 0 else {
                self.step = .payload(remaining: count + 2)
                return nil
            }
        case UInt8(ascii: "%"):
            self.valuesToRead += 2 * max(count, 0)
        case UInt8(ascii: "|"):
            // The attribute's pairs, then the reply it belongs to.
            self.valuesToRead += 2 * max(count, 0) + 1
        default:
            self.valuesToRead += max(count, 0)
        }
        return self.valueRead(at: index)
    }

    /// A value (or an aggregate's header) ended just before `index`: the reply may be complete.
    private mutating func valueRead(at index: Int) -> (length: Int, kind: RESPReplyKind)? {
        self.step = .marker
        guard self.valuesToRead == 0 else { return nil }
        let reply = (self.measured + index, self.kind ?? .array)
        self = RESPReplyMeasure()
        return reply
    }

    /// Types whose whole value is the one line.
    private static func isLineMarker(_ marker: UInt8) -> Bool {
        switch marker {
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "_"), UInt8(ascii: "#"), UInt8(ascii: ","),
            UInt8(ascii: "("):
            return true
        default:
            return false
        }
    }

    /// Types whose first line is a length (blobs) or a count (aggregates).
    private static func isLengthMarker(_ marker: UInt8) -> Bool {
        switch marker {
        case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="), UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"),
            UInt8(ascii: "%"), UInt8(ascii: "|"):
            return true
        default:
            return false
        }
    }

    private static func kind(of marker: UInt8, negativeLength: Bool) -> RESPReplyKind {
        switch marker {
        case UInt8(ascii: "+"): return .simpleString
        case UInt8(ascii: "-"), UInt8(ascii: "!"): return .error
        case UInt8(ascii: ":"): return .integer
        case UInt8(ascii: "_"): return .null
        case UInt8(ascii: "$"): return negativeLength ? .null : .bulkString
        case UInt8(ascii: "*"): return negativeLength ? .null : .array
        case UInt8(ascii: "#"): return .boolean
        case UInt8(ascii: ","): return .double
        case UInt8(ascii: "("): return .bigNumber
        case UInt8(ascii: "="): return .verbatimString
        case UInt8(ascii: "%"): return .map
        case UInt8(ascii: "~"): return .set
        default: return .push
        }
    }
}

/// A length or count line read digit by digit, under Redis's rules for integers (`string2ll`):
/// an optional `-`, no `+`, no leading zeros, no `-0`, at most 18 digits.
private struct LengthLine {
    private var negative = false
    private var digits = 0
    private var startsWithZero = false
    private var magnitude = 0

    mutating func add(_ byte: UInt8) throws(RESPReplyFramingError) {
        if byte == UInt8(ascii: "-") && self.digits == 0 && !self.negative {
            self.negative = true
            return
        }
        let digit = byte &- UInt8(ascii: "0")
        guard digit <= 9, self.digits < 18 else { throw Self.bad }
        if self.digits == 0 { self.startsWithZero = digit == 0 }
        self.digits += 1
        self.magnitude = self.magnitude * 10 + Int(digit)
    }

    func value() throws(RESPReplyFramingError) -> Int {
        guard self.digits > 0, !self.startsWithZero || (self.digits == 1 && !self.negative) else { throw Self.bad }
        return self.negative ? -self.magnitude : self.magnitude
    }

    private static let bad = RESPReplyFramingError(message: "bad length in a RESP3 reply")
}
