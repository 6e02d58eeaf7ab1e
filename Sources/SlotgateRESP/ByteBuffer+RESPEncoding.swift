//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore

/// Encoders for the RESP2 values the proxy writes itself: its own replies, errors and the
/// commands it sends on its own behalf. Everything else travels as the bytes it came in.
extension ByteBuffer {
    /// Writes `+text\r\n`.
    public mutating func writeRESPSimpleString(_ text: String) {
        self.writeInteger(UInt8(ascii: "+"))
        self.writeString(text)
        self.writeCRLF()
    }

    /// Writes `-message\r\n`; `message` starts with the error code (`ERR`, `CROSSSLOT`, …).
    /// Each CR or LF inside the message would break framing and becomes a space, as in Redis.
    public mutating func writeRESPError(_ message: String) {
        self.writeInteger(UInt8(ascii: "-"))
        for byte in message.utf8 {
            self.writeInteger(byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") ? UInt8(ascii: " ") : byte)
        }
        self.writeCRLF()
    }

    /// Writes `:value\r\n`.
    public mutating func writeRESPInteger(_ value: Int) {
        self.writeRESPLengthHeader(UInt8(ascii: ":"), value)
    }

    /// Writes a bulk string holding the readable bytes of `value`.
    public mutating func writeRESPBulkString(_ value: ByteBuffer) {
        self.writeRESPLengthHeader(UInt8(ascii: "$"), value.readableBytes)
        self.writeImmutableBuffer(value)
        self.writeCRLF()
    }

    /// Writes a bulk string holding `bytes`.
    public mutating func writeRESPBulkString(bytes: UnsafeRawBufferPointer) {
        self.writeRESPLengthHeader(UInt8(ascii: "$"), bytes.count)
        self.writeBytes(bytes)
        self.writeCRLF()
    }

    /// Writes a bulk string holding `value`'s UTF-8 bytes.
    public mutating func writeRESPBulkString(_ value: String) {
        self.writeRESPLengthHeader(UInt8(ascii: "$"), value.utf8.count)
        self.writeString(value)
        self.writeCRLF()
    }

    /// Writes a null: RESP2's null bulk string `$-1`, or RESP3's `_`.
    public mutating func writeRESPNull(resp3: Bool = false) {
        self.writeString(resp3 ? "_" : "$-1")
        self.writeCRLF()
    }

    /// Writes the header of a map of `count` pairs: RESP3's `%count`, or in RESP2 an array of
    /// `2 × count` elements, key after value, as Redis sends maps to RESP2 clients.
    public mutating func writeRESPMapHeader(count: Int, resp3: Bool) {
        if resp3 {
            self.writeRESPLengthHeader(UInt8(ascii: "%"), count)
        } else {
            self.writeRESPArrayHeader(count: 2 * count)
        }
    }

    /// Writes the header of a pub/sub frame of `count` elements: RESP3's push `>count`, or a RESP2 array.
    public mutating func writeRESPPushHeader(count: Int, resp3: Bool) {
        self.writeRESPLengthHeader(resp3 ? UInt8(ascii: ">") : UInt8(ascii: "*"), count)
    }

    /// Writes text Redis sends to RESP3 clients as a verbatim string (`=len\r\ntxt:…`), and to
    /// RESP2 clients as a bulk string.
    public mutating func writeRESPVerbatimText(_ text: String, resp3: Bool) {
        guard resp3 else {
            self.writeRESPBulkString(text)
            return
        }
        self.writeRESPLengthHeader(UInt8(ascii: "="), text.utf8.count + 4)
        self.writeString("txt:")
        self.writeString(text)
        self.writeCRLF()
    }

    /// Writes `*count\r\n`; the caller writes the elements.
    public mutating func writeRESPArrayHeader(count: Int) {
        self.writeRESPLengthHeader(UInt8(ascii: "*"), count)
    }

    /// Writes a command as a multibulk of bulk strings, the form nodes expect.
    public mutating func writeRESPCommand(_ arguments: [String]) {
        self.writeRESPArrayHeader(count: arguments.count)
        for argument in arguments {
            self.writeRESPBulkString(argument)
        }
    }

    /// Writes a command as a multibulk of bulk strings, the form nodes expect.
    public mutating func writeRESPCommand(_ arguments: [ByteBuffer]) {
        self.writeRESPArrayHeader(count: arguments.count)
        for argument in arguments {
            self.writeRESPBulkString(argument)
        }
    }

    private mutating func writeRESPLengthHeader(_ marker: UInt8, _ length: Int) {
        self.writeInteger(marker)
        self.writeDecimal(length)
        self.writeCRLF()
    }

    /// Writes `value` in decimal digits, without making a `String` of it.
    public mutating func writeDecimal(_ value: Int) {
        // 20 digits and a sign hold any Int; the digits are made last first, from the end.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 21) { digits in
            var magnitude = value.magnitude
            var start = digits.count
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                start -= 1
                digits[start] = UInt8(ascii: "-")
            }
            self.writeBytes(UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: digits[start...])))
        }
    }

    private mutating func writeCRLF() {
        self.writeInteger(UInt16(0x0D0A))
    }
}
