//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateRESP
import Testing

/// Protects how client bytes become commands: multibulk and inline requests decode to the same
/// arguments and wire bytes however the stream is fragmented, empty requests are skipped, and
/// every protocol violation is reported with the exact text Redis uses.
@Suite("RESPRequestDecoder")
struct RESPRequestDecoderTests {
    /// A decoded command reduced to plain bytes, so results can be compared with `==`.
    struct Decoded: Equatable, CustomStringConvertible {
        var arguments: [[UInt8]]
        var wire: [UInt8]

        init(_ command: RESPCommand) {
            self.arguments = command.arguments.map { Array($0.readableBytesView) }
            self.wire = Array(command.wire.readableBytesView)
        }

        init(arguments: [[UInt8]], wire: [UInt8]) {
            self.arguments = arguments
            self.wire = wire
        }

        var description: String {
            "\(self.arguments.map { String(decoding: $0, as: UTF8.self) }) wire=\(String(decoding: self.wire, as: UTF8.self).debugDescription)"
        }
    }

    /// Feeds `chunks` one at a time into a single buffer, as `ByteToMessageHandler` would, taking
    /// out every command as soon as it is complete. With `compacting`, the buffer's consumed bytes
    /// are discarded after every chunk, which moves the bytes a partly read request lives in.
    static func decode(
        chunks: [[UInt8]],
        limits: RESPRequestLimits = RESPRequestLimits(),
        compacting: Bool = false
    ) throws(RESPProtocolError) -> (commands: [Decoded], leftover: Int) {
        var decoder = RESPRequestDecoder(limits: limits)
        var buffer = ByteBuffer()
        var commands: [Decoded] = []
        for chunk in chunks {
            buffer.writeBytes(chunk)
            while let command = try decoder.decode(buffer: &buffer) {
                commands.append(Decoded(command))
            }
            if compacting {
                buffer.discardReadBytes()
            }
        }
        return (commands, buffer.readableBytes)
    }

    /// The protocol error a request stream produces when fed whole, or `nil` if it produces none.
    static func protocolError(_ bytes: [UInt8], limits: RESPRequestLimits = RESPRequestLimits()) -> RESPProtocolError? {
        do throws(RESPProtocolError) {
            _ = try self.decode(chunks: [bytes], limits: limits)
            return nil
        } catch {
            return error
        }
    }

    /// Encodes arguments as a RESP multibulk request, independently of the code under test.
    static func multibulk(_ arguments: [[UInt8]]) -> [UInt8] {
        var bytes = [UInt8]("*\(arguments.count)\r\n")
        for argument in arguments {
            bytes += [UInt8]("$\(argument.count)\r\n") + argument + [UInt8]("\r\n")
        }
        return bytes
    }

    static func multibulk(_ arguments: String...) -> [UInt8] {
        self.multibulk(arguments.map { [UInt8]($0) })
    }

    /// A pipeline mixing everything a client may send: plain commands, binary arguments, empty
    /// bulks, empty requests that must be skipped, and inline commands.
    static let pipeline: (stream: [UInt8], expected: [Decoded]) = {
        var stream: [UInt8] = []
        var expected: [Decoded] = []
        func command(_ arguments: [[UInt8]]) {
            let bytes = RESPRequestDecoderTests.multibulk(arguments)
            stream += bytes
            expected.append(Decoded(arguments: arguments, wire: bytes))
        }
        func inline(_ line: String, _ arguments: [String]) {
            stream += [UInt8](line)
            let encoded = arguments.map { [UInt8]($0) }
            expected.append(Decoded(arguments: encoded, wire: RESPRequestDecoderTests.multibulk(encoded)))
        }
        command([[UInt8]("SET"), [UInt8]("k"), [UInt8]("v")])
        stream += [UInt8]("*0\r\n")
        command([[UInt8]("SET"), [UInt8]("bin"), [0x00, 0x0D, 0x0A, 0xFF, 0x24, 0x2A, 0x0D, 0x0A]])
        stream += [UInt8]("*-1\r\n")
        command([[UInt8]("GET"), []])
        inline("PING\r\n", ["PING"])
        command([[UInt8]("MSET"), [UInt8]("a"), [UInt8]("1"), [UInt8]("b"), [UInt8](String(repeating: "x", count: 300))])
        stream += [UInt8]("\r\n")
        inline("set k \"a b\\x41\\n\"\n", ["set", "k", "a bA\n"])
        command([[UInt8]("ECHO"), [UInt8]("\r\n")])
        return (stream, expected)
    }()

    // MARK: - Multibulk

    @Test("an incomplete request past the query buffer limit is refused; complete ones of any total size are not")
    func queryBufferLimit() throws {
        let limits = RESPRequestLimits(maxQueryBuffer: 64)
        let partial = [UInt8]("*2\r\n$3\r\nSET\r\n$100\r\n") + [UInt8](repeating: 0x61, count: 60)
        #expect(Self.protocolError(partial, limits: limits)?.description == "Protocol error: client query buffer limit reached")
        let pipeline = (0..<10).flatMap { _ in Self.multibulk("SET", "key", String(repeating: "v", count: 30)) }
        #expect(try Self.decode(chunks: [pipeline], limits: limits).commands.count == 10)
    }

    @Test("a whole multibulk request decodes to its arguments and its own bytes")
    func wholeMultibulk() throws {
        let request = [UInt8]("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n")
        var decoder = RESPRequestDecoder()
        var buffer = ByteBuffer(bytes: request)
        let command = try #require(try decoder.decode(buffer: &buffer))
        #expect(command.arguments.map { String(buffer: $0) } == ["SET", "key", "value"])
        #expect(Array(command.wire.readableBytesView) == request)
        #expect(command.lowercasedName == "set")
        #expect(buffer.readableBytes == 0)
        #expect(try decoder.decode(buffer: &buffer) == nil)
    }

    @Test("a request cut short returns nil, consumes nothing, and completes when the rest arrives")
    func partialRequest() throws {
        let request = Self.multibulk("GET", "somekey")
        var decoder = RESPRequestDecoder()
        var buffer = ByteBuffer(bytes: request.prefix(request.count - 1))
        #expect(try decoder.decode(buffer: &buffer) == nil)
        #expect(buffer.readableBytes == request.count - 1)
        buffer.writeBytes(request.suffix(1))
        let command = try #require(try decoder.decode(buffer: &buffer))
        #expect(Decoded(command) == Decoded(arguments: [[UInt8]("GET"), [UInt8]("somekey")], wire: request))
        #expect(buffer.readableBytes == 0)
    }

    @Test("several pipelined commands in one buffer come out one per call, in order")
    func pipelinedInOneBuffer() throws {
        let (stream, expected) = Self.pipeline
        let decoded = try Self.decode(chunks: [stream])
        #expect(decoded.commands == expected)
        #expect(decoded.leftover == 0)
    }

    @Test("the pipeline fed one byte at a time gives the same commands")
    func byteByByte() throws {
        let (stream, expected) = Self.pipeline
        let decoded = try Self.decode(chunks: stream.byteByByte)
        #expect(decoded.commands == expected)
        #expect(decoded.leftover == 0)
    }

    @Test("the pipeline fed in random chunk sizes gives the same commands", arguments: [false, true])
    func randomChunks(compacting: Bool) throws {
        let (stream, expected) = Self.pipeline
        var generator = SeededGenerator(seed: compacting ? 0x5107_6A7E : 0xC0FF_EE00)
        for iteration in 0..<300 {
            let maximum = iteration % 3 == 0 ? 3 : (iteration % 3 == 1 ? 17 : 200)
            let chunks = stream.chunked(sizes: 1...maximum, using: &generator)
            let decoded = try Self.decode(chunks: chunks, compacting: compacting)
            #expect(decoded.commands == expected, "iteration \(iteration), chunk sizes \(chunks.map(\.count))")
            #expect(decoded.leftover == 0)
        }
    }

    @Test("bulk arguments are binary safe: CR, LF and NUL inside a bulk are data")
    func binarySafeArguments() throws {
        let value: [UInt8] = [0x00, 0x0D, 0x0A, 0x00, 0x2A, 0x31, 0x0D, 0x0A, 0x24, 0x0D]
        let request = Self.multibulk([[UInt8]("SET"), [0x6B, 0x00, 0x0A], value])
        let decoded = try Self.decode(chunks: request.byteByByte)
        #expect(decoded.commands == [Decoded(arguments: [[UInt8]("SET"), [0x6B, 0x00, 0x0A], value], wire: request)])
    }

    @Test("an empty bulk ($0) is an empty argument")
    func emptyBulk() throws {
        let request = [UInt8]("*2\r\n$3\r\nGET\r\n$0\r\n\r\n")
        let decoded = try Self.decode(chunks: [request])
        #expect(decoded.commands == [Decoded(arguments: [[UInt8]("GET"), []], wire: request)])
    }

    @Test("*0 and *-1 are consumed and skipped, as Redis skips them", arguments: ["*0\r\n", "*-1\r\n", "*-5\r\n"])
    func emptyMultibulkSkipped(empty: String) throws {
        var decoder = RESPRequestDecoder()
        var buffer = ByteBuffer(string: empty)
        #expect(try decoder.decode(buffer: &buffer) == nil)
        #expect(buffer.readableBytes == 0)

        buffer.writeString(empty + empty + "*1\r\n$4\r\nPING\r\n")
        let command = try #require(try decoder.decode(buffer: &buffer))
        #expect(command.arguments.map { String(buffer: $0) } == ["PING"])
        #expect(String(buffer: command.wire) == "*1\r\n$4\r\nPING\r\n")
        #expect(buffer.readableBytes == 0)
    }

    @Test("a declared huge bulk with only a few bytes present waits without allocating its size")
    func hugeDeclaredBulkDoesNotAllocate() throws {
        var decoder = RESPRequestDecoder()
        // 536870912 bytes is exactly the default proto-max-bulk-len, so it is legal.
        var buffer = ByteBuffer(string: "*1\r\n$536870912\r\nabc")
        let capacityBefore = buffer.capacity
        #expect(try decoder.decode(buffer: &buffer) == nil)
        #expect(buffer.readableBytes == 19)
        #expect(buffer.capacity == capacityBefore)
        #expect(buffer.capacity < 1024)

        // More bytes keep trickling in; still nothing is reserved ahead of them.
        for _ in 0..<10 {
            buffer.writeString("0123456789")
            #expect(try decoder.decode(buffer: &buffer) == nil)
        }
        #expect(buffer.capacity < 1024)
    }

    @Test("the largest allowed multibulk count is accepted and waits for its arguments")
    func largestMultibulkCount() throws {
        var decoder = RESPRequestDecoder()
        var buffer = ByteBuffer(string: "*1048576\r\n$3\r\nGET\r\n")
        #expect(try decoder.decode(buffer: &buffer) == nil)
        #expect(buffer.capacity < 1024)
    }

    @Test("a bulk of exactly the custom limit is accepted")
    func bulkAtLimit() throws {
        let limits = RESPRequestLimits(maxBulkLength: 16)
        let value = [UInt8](repeating: UInt8(ascii: "v"), count: 16)
        let request = Self.multibulk([[UInt8]("SET"), [UInt8]("k"), value])
        let decoded = try Self.decode(chunks: [request], limits: limits)
        #expect(decoded.commands == [Decoded(arguments: [[UInt8]("SET"), [UInt8]("k"), value], wire: request)])
    }

    // MARK: - Inline

    @Test("PING\\r\\n inline is the command PING with a multibulk wire form")
    func inlinePing() throws {
        let decoded = try Self.decode(chunks: [[UInt8]("PING\r\n")])
        #expect(decoded.commands == [Decoded(arguments: [[UInt8]("PING")], wire: [UInt8]("*1\r\n$4\r\nPING\r\n"))])
    }

    @Test("an inline line may end in a bare LF")
    func inlineBareLineFeed() throws {
        let decoded = try Self.decode(chunks: [[UInt8]("SET k v\n")])
        #expect(
            decoded.commands == [
                Decoded(arguments: [[UInt8]("SET"), [UInt8]("k"), [UInt8]("v")], wire: [UInt8]("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"))
            ]
        )
    }

    @Test("double quotes group words and understand escapes")
    func inlineDoubleQuotes() throws {
        let decoded = try Self.decode(chunks: [[UInt8]("set k \"a b\\x41\\n\"\r\n")])
        #expect(
            decoded.commands == [
                Decoded(
                    arguments: [[UInt8]("set"), [UInt8]("k"), [UInt8]("a bA\n")],
                    wire: [UInt8]("*3\r\n$3\r\nset\r\n$1\r\nk\r\n$5\r\na bA\n\r\n")
                )
            ]
        )
    }

    @Test("single quotes understand only \\'")
    func inlineSingleQuotes() throws {
        let decoded = try Self.decode(chunks: [[UInt8]("ECHO 'it\\'s a \\n'\r\n")])
        #expect(decoded.commands.map(\.arguments) == [[[UInt8]("ECHO"), [UInt8]("it's a \\n")]])
        #expect(decoded.commands.first?.wire == [UInt8]("*2\r\n$4\r\nECHO\r\n$9\r\nit's a \\n\r\n"))
    }

    @Test("blank inline lines are skipped", arguments: ["\r\n", "\n", "   \r\n", " \t \n"])
    func blankInlineLineSkipped(blank: String) throws {
        let decoded = try Self.decode(chunks: [[UInt8](blank + blank + "PING\r\n")])
        #expect(decoded.commands.map(\.arguments) == [[[UInt8]("PING")]])
        #expect(decoded.leftover == 0)
    }

    @Test("an inline command fed one byte at a time waits for its line end")
    func inlineByteByByte() throws {
        let line = [UInt8]("SET key \"two words\"\r\n")
        var decoder = RESPRequestDecoder()
        var buffer = ByteBuffer()
        for byte in line.dropLast() {
            buffer.writeInteger(byte)
            #expect(try decoder.decode(buffer: &buffer) == nil)
        }
        buffer.writeBytes(line.suffix(1))
        let command = try #require(try decoder.decode(buffer: &buffer))
        #expect(command.arguments.map { String(buffer: $0) } == ["SET", "key", "two words"])
        #expect(String(buffer: command.wire) == "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$9\r\ntwo words\r\n")
    }

    // MARK: - Protocol errors

    @Test(
        "an unreadable or oversized multibulk count is an invalid multibulk length",
        arguments: ["*abc\r\n", "*2147483648\r\n", "*+1\r\n", "*01\r\n", "* 1\r\n", "*\r\n", "*99999999999999999999999\r\n"]
    )
    func invalidMultibulkLength(request: String) {
        let error = Self.protocolError([UInt8](request))
        #expect(error == RESPProtocolError("invalid multibulk length"))
        #expect(error?.description == "Protocol error: invalid multibulk length")
    }

    @Test(
        "a negative, unreadable or oversized bulk length is an invalid bulk length",
        arguments: ["*1\r\n$-1\r\n", "*1\r\n$abc\r\n", "*1\r\n$\r\n", "*2\r\n$3\r\nGET\r\n$-5\r\n", "*1\r\n$1x\r\n"]
    )
    func invalidBulkLength(request: String) {
        #expect(Self.protocolError([UInt8](request)) == RESPProtocolError("invalid bulk length"))
    }

    @Test("a bulk over a custom maxBulkLength is an invalid bulk length")
    func bulkOverCustomLimit() {
        let limits = RESPRequestLimits(maxBulkLength: 16)
        #expect(Self.protocolError([UInt8]("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$17\r\n"), limits: limits) == RESPProtocolError("invalid bulk length"))
        #expect(Self.protocolError([UInt8]("*1\r\n$536870913\r\n")) == RESPProtocolError("invalid bulk length"))
    }

    @Test("anything but '$' where a bulk belongs is named in the error")
    func expectedDollar() {
        let error = Self.protocolError([UInt8]("*2\r\n$3\r\nGET\r\nxyz\r\n"))
        #expect(error == RESPProtocolError("expected '$', got 'x'"))
        #expect(error?.description == "Protocol error: expected '$', got 'x'")
        #expect(Self.protocolError([UInt8]("*1\r\n:1\r\n")) == RESPProtocolError("expected '$', got ':'"))
    }

    @Test("a '*' line longer than maxInlineLength with no CR is a too big mbulk count string")
    func tooBigMultibulkCount() {
        let defaultError = Self.protocolError([UInt8]("*" + String(repeating: "1", count: 64 * 1024 + 10)))
        #expect(defaultError == RESPProtocolError("too big mbulk count string"))

        let limits = RESPRequestLimits(maxInlineLength: 16)
        #expect(
            Self.protocolError([UInt8]("*" + String(repeating: "1", count: 40)), limits: limits) == RESPProtocolError("too big mbulk count string")
        )
        // Under the limit it is just an unfinished line.
        #expect(Self.protocolError([UInt8]("*" + String(repeating: "1", count: 8)), limits: limits) == nil)
    }

    @Test("a '$' line longer than maxInlineLength with no CR is a too big bulk count string")
    func tooBigBulkCount() {
        let defaultError = Self.protocolError([UInt8]("*1\r\n$" + String(repeating: "1", count: 64 * 1024 + 10)))
        #expect(defaultError == RESPProtocolError("too big bulk count string"))

        let limits = RESPRequestLimits(maxInlineLength: 16)
        #expect(
            Self.protocolError([UInt8]("*1\r\n$" + String(repeating: "1", count: 40)), limits: limits)
                == RESPProtocolError("too big bulk count string")
        )
        #expect(Self.protocolError([UInt8]("*1\r\n$" + String(repeating: "1", count: 8)), limits: limits) == nil)
    }

    @Test("an inline line longer than maxInlineLength with no LF is a too big inline request")
    func tooBigInlineRequest() {
        let defaultError = Self.protocolError([UInt8](String(repeating: "A", count: 64 * 1024 + 1)))
        #expect(defaultError == RESPProtocolError("too big inline request"))

        let limits = RESPRequestLimits(maxInlineLength: 16)
        #expect(
            Self.protocolError([UInt8]("GET " + String(repeating: "k", count: 40)), limits: limits) == RESPProtocolError("too big inline request")
        )
        #expect(Self.protocolError([UInt8]("GET kkk"), limits: limits) == nil)
    }

    @Test(
        "unterminated quotes or a quote glued to the next word are unbalanced quotes",
        arguments: ["set k \"a b\r\n", "SET k \"a\"b\r\n", "SET k 'abc\r\n", "SET k 'a'b\r\n", "ECHO \"abc\\\"\r\n"]
    )
    func unbalancedQuotes(line: String) {
        let error = Self.protocolError([UInt8](line))
        #expect(error == RESPProtocolError("unbalanced quotes in request"))
        #expect(error?.description == "Protocol error: unbalanced quotes in request")
    }

    @Test("protocol errors are the same however the request is fragmented")
    func errorsUnderFragmentation() {
        let cases: [(String, RESPProtocolError)] = [
            ("*abc\r\n", RESPProtocolError("invalid multibulk length")),
            ("*1\r\n$-1\r\n", RESPProtocolError("invalid bulk length")),
            ("*1\r\nxyz\r\n", RESPProtocolError("expected '$', got 'x'")),
            ("SET k \"v\r\n", RESPProtocolError("unbalanced quotes in request")),
        ]
        for (request, expected) in cases {
            do throws(RESPProtocolError) {
                _ = try Self.decode(chunks: [UInt8](request).byteByByte)
                Issue.record("no error for \(request.debugDescription)")
            } catch {
                #expect(error == expected, "\(request.debugDescription)")
            }
        }
    }

    @Test("valid commands before a protocol error are still returned")
    func commandsBeforeError() throws {
        var decoder = RESPRequestDecoder()
        var buffer = ByteBuffer(string: "*1\r\n$4\r\nPING\r\nPING\r\n*x\r\n")
        #expect(try decoder.decode(buffer: &buffer)?.lowercasedName == "ping")
        #expect(try decoder.decode(buffer: &buffer)?.lowercasedName == "ping")
        #expect(throws: RESPProtocolError("invalid multibulk length")) {
            try decoder.decode(buffer: &buffer)
        }
    }
}
