//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateRESP
import Testing

/// Protects the RESP3 framer: every RESP3 type is framed whole, as the exact bytes sent, with
/// the right kind, however the stream is cut.
@Suite("RESP3ReplyFramer")
struct RESP3ReplyFramerTests {
    /// One reply of every RESP3 type, with the kind it must be framed as.
    static let replies: [(bytes: String, kind: RESPReplyKind)] = [
        ("+OK\r\n", .simpleString),
        ("-ERR no such key\r\n", .error),
        (":42\r\n", .integer),
        ("_\r\n", .null),
        ("#t\r\n", .boolean),
        (",3.14\r\n", .double),
        ("(3492890328409238509324850943850943825024385\r\n", .bigNumber),
        ("$5\r\nhello\r\n", .bulkString),
        ("$0\r\n\r\n", .bulkString),
        ("$-1\r\n", .null),
        ("$4\r\na\r\nb\r\n", .bulkString),
        ("!21\r\nSYNTAX invalid syntax\r\n", .error),
        ("=15\r\ntxt:Some string\r\n", .verbatimString),
        ("*2\r\n:1\r\n$1\r\na\r\n", .array),
        ("*-1\r\n", .null),
        ("*0\r\n", .array),
        ("%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n", .map),
        ("%0\r\n", .map),
        ("~3\r\n+a\r\n+b\r\n+c\r\n", .set),
        (">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n", .push),
        ("%1\r\n+m\r\n*2\r\n~1\r\n#f\r\n%0\r\n", .map),
        (
            "|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n",
            .array
        ),
    ]

    static func frameAll(_ chunks: [[UInt8]]) throws -> [FramedReply] {
        let framer = RESP3ReplyFramer()
        var framed: [FramedReply] = []
        for chunk in chunks {
            framer.feed(ByteBuffer(bytes: chunk))
            while let reply = try framer.next() {
                framed.append(reply)
            }
        }
        return framed
    }

    @Test("each reply fed whole is framed alone, as its bytes, with its kind", arguments: replies.indices)
    func whole(index: Int) throws {
        let (bytes, kind) = Self.replies[index]
        let framed = try Self.frameAll([Array(bytes.utf8)])
        #expect(framed.count == 1)
        #expect(framed.first.map { String(buffer: $0.bytes) } == bytes)
        #expect(framed.first?.kind == kind)
    }

    @Test("no reply comes out before its last byte")
    func incomplete() throws {
        for (bytes, _) in Self.replies {
            let framer = RESP3ReplyFramer()
            framer.feed(ByteBuffer(string: String(bytes.dropLast())))
            #expect(try framer.next() == nil, "\(bytes.debugDescription)")
        }
    }

    @Test("a stream of every reply, fed byte by byte and in random chunks, frames the same")
    func chunked() throws {
        let stream = Array(Self.replies.map(\.bytes).joined().utf8)
        let byteByByte = try Self.frameAll(stream.map { [$0] })
        #expect(byteByByte.map { String(buffer: $0.bytes) } == Self.replies.map(\.bytes))
        #expect(byteByByte.map(\.kind) == Self.replies.map(\.kind))

        var generator = SeededGenerator(seed: 3)
        for _ in 0..<200 {
            var chunks: [[UInt8]] = []
            var rest = stream[...]
            while !rest.isEmpty {
                let size = Int.random(in: 1...40, using: &generator)
                chunks.append(Array(rest.prefix(size)))
                rest = rest.dropFirst(size)
            }
            #expect(try Self.frameAll(chunks).map { String(buffer: $0.bytes) } == Self.replies.map(\.bytes))
        }
    }

    @Test("bytes that are no RESP3 type are a framing error")
    func malformed() {
        for bad in ["?what\r\n", "*x\r\n", "$abc\r\n"] {
            let framer = RESP3ReplyFramer()
            framer.feed(ByteBuffer(string: bad))
            #expect(throws: RESPReplyFramingError.self) { try framer.next() }
        }
    }
}
