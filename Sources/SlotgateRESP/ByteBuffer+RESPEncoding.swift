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
        self.writeInteger(UInt8(ascii: ":"))
        self.writeString(String(value))
        self.writeCRLF()
    }

    /// Writes a bulk string holding the readable bytes of `value`.
    public mutating func writeRESPBulkString(_ value: ByteBuffer) {
        self.writeRESPLengthHeader(UInt8(ascii: "$"), value.readableBytes)
        self.writeImmutableBuffer(value)
        self.writeCRLF()
    }

    /// Writes a bulk string holding `value`'s UTF-8 bytes.
    public mutating func writeRESPBulkString(_ value: String) {
        self.writeRESPLengthHeader(UInt8(ascii: "$"), value.utf8.count)
        self.writeString(value)
        self.writeCRLF()
    }

    /// Writes the null bulk string, `$-1\r\n`.
    public mutating func writeRESPNull() {
        self.writeString("$-1")
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
        self.writeString(String(length))
        self.writeCRLF()
    }

    private mutating func writeCRLF() {
        self.writeInteger(UInt16(0x0D0A))
    }
}
