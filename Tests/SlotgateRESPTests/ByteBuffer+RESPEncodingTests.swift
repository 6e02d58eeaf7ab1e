//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateRESP
import Testing

/// Protects the bytes Slotgate writes itself (its own replies and the commands it sends to
/// nodes): each encoder's exact output, and that an error message can never break framing.
@Suite("ByteBuffer+RESPEncoding")
struct ByteBufferRESPEncodingTests {
    static func encoded(_ write: (inout ByteBuffer) -> Void) -> [UInt8] {
        var buffer = ByteBuffer()
        write(&buffer)
        return Array(buffer.readableBytesView)
    }

    @Test("writeRESPSimpleString writes +text CRLF")
    func simpleString() {
        #expect(Self.encoded { $0.writeRESPSimpleString("OK") } == [UInt8]("+OK\r\n"))
        #expect(Self.encoded { $0.writeRESPSimpleString("PONG") } == [UInt8]("+PONG\r\n"))
        #expect(Self.encoded { $0.writeRESPSimpleString("") } == [UInt8]("+\r\n"))
    }

    @Test("writeRESPError writes -message CRLF")
    func error() {
        #expect(
            Self.encoded { $0.writeRESPError("CROSSSLOT Keys in request don't hash to the same slot") }
                == [UInt8]("-CROSSSLOT Keys in request don't hash to the same slot\r\n")
        )
        #expect(Self.encoded { $0.writeRESPError("ERR") } == [UInt8]("-ERR\r\n"))
    }

    @Test("writeRESPError replaces a lone CR or LF in the message with a space")
    func errorLineBreaks() {
        #expect(Self.encoded { $0.writeRESPError("ERR a\nb") } == [UInt8]("-ERR a b\r\n"))
        #expect(Self.encoded { $0.writeRESPError("ERR a\rb") } == [UInt8]("-ERR a b\r\n"))
        #expect(Self.encoded { $0.writeRESPError("ERR a\n\nb\rc") } == [UInt8]("-ERR a  b c\r\n"))
    }

    @Test("an error message with line breaks of any kind still frames as exactly one error reply")
    func errorLineBreaksKeepFraming() throws {
        for message in ["ERR a\r\nb", "ERR \r\n\r\n", "ERR x\n\r\ny\r", "ERR unknown command 'a\r\nb', with args beginning with: "] {
            let bytes = Self.encoded { $0.writeRESPError(message) }
            #expect(bytes.first == UInt8(ascii: "-"))
            #expect(Array(bytes.suffix(2)) == [0x0D, 0x0A])
            #expect(!bytes.dropLast(2).contains(0x0D), "\(message.debugDescription)")
            #expect(!bytes.dropLast(2).contains(0x0A), "\(message.debugDescription)")

            let framer = RESPReplyFramer()
            framer.feed(ByteBuffer(bytes: bytes))
            let reply = try #require(try framer.next())
            #expect(reply.kind == .error)
            #expect(reply.bytes.readableBytes == bytes.count)
        }
    }

    // Redis (networking.c, addReplyErrorLength callers and rejectCommandFormat) maps every CR
    // byte and every LF byte to one space each with sdsmapchars("\r\n", "  "); checked against
    // redis-server 7.0.15, where `FOO "a\r\nb"` replies `'a  b'` with two spaces.
    // BUG (Sources/SlotgateRESP/ByteBuffer+RESPEncoding.swift:22): the message is mapped per
    // Swift Character, and "\r\n" is one Character, so a CRLF pair becomes a single space and
    // the error text differs from Redis's.
    @Test("writeRESPError turns each byte of a CRLF pair into a space, as Redis does")
    func errorCRLFPairAsRedis() {
        #expect(Self.encoded { $0.writeRESPError("ERR a\r\nb") } == [UInt8]("-ERR a  b\r\n"))
    }

    @Test("writeRESPError keeps non-ASCII text as UTF-8")
    func errorUnicode() {
        #expect(Self.encoded { $0.writeRESPError("ERR clé\nü") } == [UInt8]("-ERR clé ü\r\n"))
    }

    @Test(
        "writeRESPInteger writes :value CRLF",
        arguments: [(0, ":0\r\n"), (42, ":42\r\n"), (-1, ":-1\r\n"), (Int.max, ":9223372036854775807\r\n"), (Int.min, ":-9223372036854775808\r\n")]
    )
    func integer(value: Int, expected: String) {
        #expect(Self.encoded { $0.writeRESPInteger(value) } == [UInt8](expected))
    }

    @Test("writeRESPBulkString(String) counts UTF-8 bytes, not characters")
    func bulkStringFromString() {
        #expect(Self.encoded { $0.writeRESPBulkString("hello") } == [UInt8]("$5\r\nhello\r\n"))
        #expect(Self.encoded { $0.writeRESPBulkString("") } == [UInt8]("$0\r\n\r\n"))
        #expect(Self.encoded { $0.writeRESPBulkString("héllo") } == [UInt8]("$6\r\nhéllo\r\n"))
        #expect(Self.encoded { $0.writeRESPBulkString("a\r\nb") } == [UInt8]("$4\r\na\r\nb\r\n"))
    }

    @Test("writeRESPBulkString(ByteBuffer) writes the readable bytes only, binary safe")
    func bulkStringFromBuffer() {
        var value = ByteBuffer(bytes: [0xAA, 0xBB, 0x00, 0x0D, 0x0A, 0xFF])
        value.moveReaderIndex(forwardBy: 2)
        #expect(Self.encoded { $0.writeRESPBulkString(value) } == [UInt8]("$4\r\n") + [0x00, 0x0D, 0x0A, 0xFF] + [UInt8]("\r\n"))
        #expect(value.readableBytes == 4)
        #expect(Self.encoded { $0.writeRESPBulkString(ByteBuffer()) } == [UInt8]("$0\r\n\r\n"))
    }

    @Test("writeRESPArrayHeader writes *count CRLF")
    func arrayHeader() {
        #expect(Self.encoded { $0.writeRESPArrayHeader(count: 3) } == [UInt8]("*3\r\n"))
        #expect(Self.encoded { $0.writeRESPArrayHeader(count: 0) } == [UInt8]("*0\r\n"))
        #expect(Self.encoded { $0.writeRESPArrayHeader(count: 1_048_576) } == [UInt8]("*1048576\r\n"))
    }

    @Test("writeRESPCommand writes a multibulk of bulk strings")
    func command() {
        let expected = [UInt8]("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n")
        #expect(Self.encoded { $0.writeRESPCommand(["SET", "k", ""]) } == expected)
        #expect(Self.encoded { $0.writeRESPCommand([ByteBuffer(string: "SET"), ByteBuffer(string: "k"), ByteBuffer()]) } == expected)
        #expect(Self.encoded { $0.writeRESPCommand(["ASKING"]) } == [UInt8]("*1\r\n$6\r\nASKING\r\n"))
        #expect(Self.encoded { $0.writeRESPCommand([String]()) } == [UInt8]("*0\r\n"))
    }

    @Test("encoders append to what the buffer already holds")
    func appends() {
        let bytes = Self.encoded {
            $0.writeRESPSimpleString("OK")
            $0.writeRESPInteger(7)
            $0.writeRESPError("ERR x")
        }
        #expect(bytes == [UInt8]("+OK\r\n:7\r\n-ERR x\r\n"))
    }

    @Test("an encoded command decodes back to the same arguments and bytes")
    func commandRoundTrip() throws {
        let arguments: [ByteBuffer] = [ByteBuffer(string: "SET"), ByteBuffer(bytes: [0x00, 0x0D, 0x0A]), ByteBuffer(string: "v a l")]
        var wire = ByteBuffer()
        wire.writeRESPCommand(arguments)
        let expectedWire = Array(wire.readableBytesView)
        var decoder = RESPRequestDecoder()
        let command = try #require(try decoder.decode(buffer: &wire))
        #expect(command.arguments == arguments)
        #expect(Array(command.wire.readableBytesView) == expectedWire)
    }

    @Test("encoded replies frame as the kinds they are")
    func replyRoundTrip() throws {
        var bytes = ByteBuffer()
        bytes.writeRESPSimpleString("OK")
        bytes.writeRESPError("ERR no")
        bytes.writeRESPInteger(-3)
        bytes.writeRESPBulkString("bulk")
        bytes.writeRESPArrayHeader(count: 2)
        bytes.writeRESPInteger(1)
        bytes.writeRESPBulkString("x")
        let framer = RESPReplyFramer()
        framer.feed(bytes)
        var kinds: [RESPReplyKind] = []
        while let reply = try framer.next() {
            kinds.append(reply.kind)
        }
        #expect(kinds == [.simpleString, .error, .integer, .bulkString, .array])
        #expect(framer.bufferedByteCount == 0)
    }
}
