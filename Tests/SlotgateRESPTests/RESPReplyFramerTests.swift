//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateRESP
import Testing

/// Protects reply forwarding: every RESP2 reply a node sends is cut out of the stream as exactly
/// the bytes the node sent, with the right kind, however the stream arrives, and bytes that are
/// not RESP2 are reported instead of being forwarded.
@Suite("RESPReplyFramer")
struct RESPReplyFramerTests {
    /// One reply as a node sends it, and the kind the framer must report for it.
    struct Reply: Sendable, CustomStringConvertible {
        var bytes: [UInt8]
        var kind: RESPReplyKind

        init(_ text: String, _ kind: RESPReplyKind) {
            self.bytes = [UInt8](text)
            self.kind = kind
        }

        init(bytes: [UInt8], _ kind: RESPReplyKind) {
            self.bytes = bytes
            self.kind = kind
        }

        var description: String { "\(self.kind): \(String(decoding: self.bytes.prefix(60), as: UTF8.self).debugDescription)" }
    }

    /// Replies of every kind, shaped like the ones Redis 7 sends.
    static let replies: [Reply] = [
        Reply("+OK\r\n", .simpleString),
        Reply("+PONG\r\n", .simpleString),
        Reply("-ERR unknown command 'FOO', with args beginning with: 'a' \r\n", .error),
        Reply("-MOVED 3999 127.0.0.1:6381\r\n", .error),
        Reply("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", .error),
        Reply(":1000\r\n", .integer),
        Reply(":-1\r\n", .integer),
        Reply(":0\r\n", .integer),
        Reply("$5\r\nhello\r\n", .bulkString),
        Reply("$0\r\n\r\n", .bulkString),
        Reply(bytes: [UInt8]("$6\r\n") + [0x00, 0x0D, 0x0A, 0x2B, 0x0D, 0x0A] + [UInt8]("\r\n"), .bulkString),
        Reply("$-1\r\n", .null),
        Reply("*-1\r\n", .null),
        Reply("*0\r\n", .array),
        Reply("*3\r\n$3\r\nfoo\r\n$-1\r\n$3\r\nbar\r\n", .array),
        Reply("*2\r\n*3\r\n:1\r\n$1\r\na\r\n*0\r\n*2\r\n+x\r\n-ERR inner\r\n", .array),
        // A CLUSTER SLOTS reply: arrays three levels deep.
        Reply(
            "*1\r\n*4\r\n:0\r\n:5460\r\n*4\r\n$9\r\n127.0.0.1\r\n:30001\r\n$40\r\n09dbe9720cda62f7865eabc5fd8857c5d2678366\r\n*0\r\n"
                + "*4\r\n$9\r\n127.0.0.1\r\n:30004\r\n$40\r\n821d8ca00d7ccf931ed3ffc7e3db0599d2271abf\r\n*0\r\n",
            .array
        ),
        // An EXEC reply holding a null, an error and an integer.
        Reply("*3\r\n+OK\r\n-EXECABORT Transaction discarded because of previous errors.\r\n:42\r\n", .array),
    ]

    /// A bulk reply of one megabyte whose content looks like RESP, to be sure it is not parsed.
    static let megabyteBulk: Reply = {
        var content: [UInt8] = []
        content.reserveCapacity(1 << 20)
        let pattern = [UInt8]("*2\r\n$3\r\nfoo\r\n-ERR x\r\n")
        while content.count < 1 << 20 {
            content += pattern
        }
        content.removeLast(content.count - (1 << 20))
        return Reply(bytes: [UInt8]("$\(1 << 20)\r\n") + content + [UInt8]("\r\n"), .bulkString)
    }()

    /// Feeds `chunks` one at a time and collects every reply as soon as it is complete.
    static func frame(_ chunks: [[UInt8]]) throws(RESPReplyFramingError) -> (replies: [FramedReply], buffered: Int) {
        let framer = RESPReplyFramer()
        var replies: [FramedReply] = []
        for chunk in chunks {
            framer.feed(ByteBuffer(bytes: chunk))
            while let reply = try framer.next() {
                replies.append(reply)
            }
        }
        return (replies, framer.bufferedByteCount)
    }

    /// Checks framed replies against the expected ones, byte for byte and kind for kind; reports
    /// only lengths and prefixes, since some replies are a megabyte long. Returns whether all matched.
    @discardableResult
    static func check(_ framed: [FramedReply], against expected: [Reply], _ context: String = "", sourceLocation: SourceLocation = #_sourceLocation)
        -> Bool
    {
        var matched = framed.count == expected.count
        #expect(framed.count == expected.count, "\(context)", sourceLocation: sourceLocation)
        for (index, (reply, wanted)) in zip(framed, expected).enumerated() {
            let sameBytes = reply.bytes.readableBytesView.elementsEqual(wanted.bytes)
            let got = String(decoding: reply.bytes.readableBytesView.prefix(40), as: UTF8.self).debugDescription
            #expect(reply.kind == wanted.kind, "reply \(index) \(context): wanted \(wanted)", sourceLocation: sourceLocation)
            #expect(
                sameBytes,
                "reply \(index) \(context): got \(reply.bytes.readableBytes) bytes \(got)…, wanted \(wanted.bytes.count) bytes \(wanted)",
                sourceLocation: sourceLocation
            )
            matched = matched && sameBytes && reply.kind == wanted.kind
        }
        return matched
    }

    static var stream: [UInt8] { Self.replies.flatMap(\.bytes) }

    @Test("each reply fed whole comes out alone, as its own bytes", arguments: RESPReplyFramerTests.replies)
    func singleReply(reply: Reply) throws {
        let framed = try Self.frame([reply.bytes])
        Self.check(framed.replies, against: [reply])
        #expect(framed.buffered == 0)
    }

    @Test("a stream of replies fed whole is cut into every reply in order")
    func wholeStream() throws {
        let framed = try Self.frame([Self.stream])
        Self.check(framed.replies, against: Self.replies)
        #expect(framed.buffered == 0)
    }

    @Test("the stream fed one byte at a time gives the same replies")
    func byteByByte() throws {
        let framed = try Self.frame(Self.stream.byteByByte)
        Self.check(framed.replies, against: Self.replies)
        #expect(framed.buffered == 0)
    }

    @Test("the stream fed in random chunk sizes gives the same replies")
    func randomChunks() throws {
        var generator = SeededGenerator(seed: 0xF4A3_E5)
        for iteration in 0..<300 {
            let maximum = [2, 7, 40, 500][iteration % 4]
            let chunks = Self.stream.chunked(sizes: 1...maximum, using: &generator)
            let framed = try Self.frame(chunks)
            let context = "iteration \(iteration), chunk sizes \(chunks.map(\.count))"
            // One failing iteration says all there is to say; stop there rather than repeat it.
            guard Self.check(framed.replies, against: Self.replies, context) else { break }
            #expect(framed.buffered == 0, "\(context)")
        }
    }

    @Test("a one-megabyte bulk between small replies is framed whole")
    func megabyteBulkWhole() throws {
        let expected = [Self.replies[0], Self.megabyteBulk, Self.replies[5]]
        let framed = try Self.frame([expected.flatMap(\.bytes)])
        Self.check(framed.replies, against: expected)
        #expect(framed.buffered == 0)
    }

    @Test("a one-megabyte bulk fed in random chunks is framed whole")
    func megabyteBulkRandomChunks() throws {
        let expected = [Self.replies[3], Self.megabyteBulk, Self.megabyteBulk, Self.replies[11]]
        let stream = expected.flatMap(\.bytes)
        var generator = SeededGenerator(seed: 1 << 20)
        for maximum in [1500, 16 * 1024, 200 * 1024] {
            let framed = try Self.frame(stream.chunked(sizes: 1...maximum, using: &generator))
            guard Self.check(framed.replies, against: expected, "chunks of up to \(maximum) bytes") else { break }
            #expect(framed.buffered == 0)
        }
    }

    @Test("a one-megabyte bulk fed one byte at a time is framed whole")
    func megabyteBulkByteByByte() throws {
        let framer = RESPReplyFramer()
        var replies: [FramedReply] = []
        for byte in Self.megabyteBulk.bytes + Self.replies[0].bytes {
            framer.feed(ByteBuffer(bytes: CollectionOfOne(byte)))
            while let reply = try framer.next() {
                replies.append(reply)
            }
        }
        Self.check(replies, against: [Self.megabyteBulk, Self.replies[0]])
        #expect(framer.bufferedByteCount == 0)
    }

    // The framer learns a reply's length from how far hiredis's read position moves during the
    // `next()` call that completes it. But hiredis also moves it during calls that return no
    // reply: it consumes the type byte of an incomplete reply (or array element), and every
    // element of an array that is already complete.
    // BUG (Sources/SlotgateRESP/RESPReplyFramer.swift:73 and 80): `before` is taken at the start
    // of each `next()` call, so whatever an earlier `next()` that returned nil consumed is left
    // out: "+OK" then "\r\n" frames as "+OK\r" and the leftover "\n" shifts every later reply.
    // Any reply split across two socket reads (always so for large bulks) reaches the client
    // corrupted. The other tests here that feed replies byte by byte or in chunks fail for the
    // same reason.
    @Test("a reply split after its type byte is framed whole")
    func replySplitAfterTypeByte() throws {
        let framer = RESPReplyFramer()
        framer.feed(ByteBuffer(string: "+OK"))
        #expect(try framer.next() == nil)
        framer.feed(ByteBuffer(string: "\r\n"))
        let reply = try #require(try framer.next())
        #expect(reply.kind == .simpleString)
        #expect(String(buffer: reply.bytes) == "+OK\r\n")
        #expect(framer.bufferedByteCount == 0)
    }

    @Test("an incomplete reply returns nil and keeps its bytes until the rest arrives")
    func incompleteReply() throws {
        let framer = RESPReplyFramer()
        framer.feed(ByteBuffer(string: "*2\r\n$3\r\nfoo\r\n"))
        #expect(try framer.next() == nil)
        #expect(framer.bufferedByteCount == 13)
        framer.feed(ByteBuffer(string: ":7\r\n+O"))
        let reply = try #require(try framer.next())
        #expect(reply.kind == .array)
        #expect(String(buffer: reply.bytes) == "*2\r\n$3\r\nfoo\r\n:7\r\n")
        #expect(try framer.next() == nil)
        #expect(framer.bufferedByteCount == 2)
    }

    @Test("feeding an empty buffer changes nothing")
    func emptyFeed() throws {
        let framer = RESPReplyFramer()
        framer.feed(ByteBuffer())
        #expect(try framer.next() == nil)
        #expect(framer.bufferedByteCount == 0)
    }

    @Test("a slice fed from the middle of a buffer contributes only its readable bytes")
    func feedSlice() throws {
        let framer = RESPReplyFramer()
        var buffer = ByteBuffer(string: "garbage+OK\r\n")
        buffer.moveReaderIndex(forwardBy: 7)
        framer.feed(buffer)
        let reply = try #require(try framer.next())
        #expect(reply.kind == .simpleString)
        #expect(String(buffer: reply.bytes) == "+OK\r\n")
    }

    // Measured against redis-server 7.0.15: `COMMAND DOCS` replies with arrays nested 12 deep
    // and `COMMAND` 8 deep. The framer forwards replies to clients, so it must frame any depth a
    // node can send.
    // BUG (Sources/SlotgateRESP/RESPReplyFramer.swift, `next()`): the system hiredis 0.14.1
    // reader rejects arrays nested more than 7 levels below the top ("No support for nested multi
    // bulk replies with depth > 7"), so such a reply (e.g. `COMMAND DOCS`, which redis-cli 7
    // sends on start) throws RESPReplyFramingError and the node link is dropped.
    @Test("replies nested as deep as a real COMMAND DOCS reply are framed", arguments: [8, 9, 12])
    func deeplyNestedArrays(depth: Int) throws {
        let bytes = [UInt8](String(repeating: "*1\r\n", count: depth) + "$4\r\ndocs\r\n")
        let framed = try Self.frame([bytes])
        Self.check(framed.replies, against: [Reply(bytes: bytes, .array)])
    }

    // MARK: - FramedReply

    @Test("isError(startingWith:) and lineText read a MOVED redirect")
    func movedReply() throws {
        let framed = try Self.frame([[UInt8]("-MOVED 3999 127.0.0.1:6381\r\n")])
        let reply = try #require(framed.replies.first)
        #expect(reply.kind == .error)
        #expect(reply.isError(startingWith: "MOVED "))
        #expect(reply.isError(startingWith: "MOVED 3999"))
        #expect(!reply.isError(startingWith: "ASK "))
        #expect(!reply.isError(startingWith: "MOVED 4"))
        #expect(!reply.isError(startingWith: "MOVED 3999 127.0.0.1:6381 and more than the reply holds"))
        #expect(reply.lineText == "MOVED 3999 127.0.0.1:6381")
    }

    @Test("isError(startingWith:) is false for replies that are not errors")
    func isErrorOnlyForErrors() throws {
        let framed = try Self.frame([[UInt8]("+MOVED 3999 127.0.0.1:6381\r\n$10\r\nMOVED 1 x:\r\n")])
        #expect(framed.replies.count == 2)
        for reply in framed.replies {
            #expect(!reply.isError(startingWith: "MOVED "))
        }
        #expect(framed.replies[0].lineText == "MOVED 3999 127.0.0.1:6381")
    }

    @Test("isError(startingWith:) matches ASK, TRYAGAIN and CLUSTERDOWN")
    func otherRetryErrors() throws {
        let framed = try Self.frame([
            [UInt8]("-ASK 12182 127.0.0.1:7002\r\n-TRYAGAIN Multiple keys request during rehashing of slot\r\n-CLUSTERDOWN The cluster is down\r\n")
        ])
        #expect(framed.replies.count == 3)
        #expect(framed.replies[0].isError(startingWith: "ASK "))
        #expect(framed.replies[1].isError(startingWith: "TRYAGAIN"))
        #expect(framed.replies[2].isError(startingWith: "CLUSTERDOWN"))
        #expect(framed.replies[2].lineText == "CLUSTERDOWN The cluster is down")
    }

    // MARK: - Malformed input

    @Test(
        "bytes that are not RESP2 throw RESPReplyFramingError",
        arguments: ["!oops\r\n", "?\r\n", "hello\r\n", "%2\r\n+a\r\n:1\r\n", "\r\n"]
    )
    func malformed(input: String) {
        #expect(throws: RESPReplyFramingError.self) {
            _ = try Self.frame([[UInt8](input)])
        }
    }

    @Test("replies before malformed bytes are framed, then the error is thrown")
    func malformedAfterValid() throws {
        let framer = RESPReplyFramer()
        framer.feed(ByteBuffer(string: "+OK\r\n:1\r\n!oops\r\n"))
        #expect(try framer.next()?.kind == .simpleString)
        #expect(try framer.next()?.kind == .integer)
        do throws(RESPReplyFramingError) {
            _ = try framer.next()
            Issue.record("no error for !oops")
        } catch {
            #expect(error.description.hasPrefix("node protocol error: "))
            #expect(!error.message.isEmpty)
        }
    }
}
