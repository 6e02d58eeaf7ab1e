//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateRESP
import Testing

@testable import SlotgateProxy

/// Protects the commands Slotgate answers itself (PING, ECHO, QUIT, SELECT): the exact reply
/// bytes a single Redis Cluster node would send, and that everything else is left to the router.
@Suite("LocalCommand")
struct LocalCommandTests {
    /// The reply bytes and whether the connection closes after them, or `nil` if not local.
    static func answer(_ arguments: [String]) -> (reply: String, closes: Bool)? {
        let command = RESPCommand(arguments)
        switch LocalCommand.answer(command, name: command.lowercasedName) {
        case .reply(let bytes): return (String(buffer: bytes), false)
        case .replyAndClose(let bytes): return (String(buffer: bytes), true)
        case nil: return nil
        }
    }

    static func reply(_ arguments: [String]) -> String? {
        guard let answer = self.answer(arguments) else { return nil }
        return answer.closes ? "closes after \(answer.reply)" : answer.reply
    }

    @Test("PING answers +PONG; PING msg echoes msg as a bulk")
    func ping() {
        #expect(Self.reply(["PING"]) == "+PONG\r\n")
        #expect(Self.reply(["ping"]) == "+PONG\r\n")
        #expect(Self.reply(["PING", "hello world"]) == "$11\r\nhello world\r\n")
        #expect(Self.reply(["PING", ""]) == "$0\r\n\r\n")
    }

    @Test("PING with two arguments is a wrong-arity error")
    func pingArity() {
        #expect(Self.reply(["PING", "a", "b"]) == "-ERR wrong number of arguments for 'ping' command\r\n")
    }

    @Test("ECHO answers its argument as a bulk, binary safe")
    func echo() {
        #expect(Self.reply(["ECHO", "hi"]) == "$2\r\nhi\r\n")
        #expect(Self.reply(["EcHo", "a\r\nb"]) == "$4\r\na\r\nb\r\n")
        let binary = RESPCommand(arguments: [ByteBuffer(string: "ECHO"), ByteBuffer(bytes: [0x00, 0xFF])], wire: ByteBuffer())
        guard case .reply(let bytes) = LocalCommand.answer(binary, name: "echo") else {
            Issue.record("ECHO was not answered")
            return
        }
        #expect(Array(bytes.readableBytesView) == [UInt8]("$2\r\n".utf8) + [0x00, 0xFF] + [UInt8]("\r\n".utf8))
    }

    @Test("ECHO without exactly one argument is a wrong-arity error")
    func echoArity() {
        #expect(Self.reply(["ECHO"]) == "-ERR wrong number of arguments for 'echo' command\r\n")
        #expect(Self.reply(["ECHO", "a", "b"]) == "-ERR wrong number of arguments for 'echo' command\r\n")
    }

    @Test("QUIT answers +OK and closes the connection")
    func quit() {
        #expect(Self.reply(["QUIT"]) == "closes after +OK\r\n")
        #expect(Self.reply(["quit", "extra"]) == "closes after +OK\r\n")
    }

    @Test("SELECT 0 is fine; any other database is refused as in cluster mode")
    func select() {
        #expect(Self.reply(["SELECT", "0"]) == "+OK\r\n")
        #expect(Self.reply(["select", "1"]) == "-ERR SELECT is not allowed in cluster mode\r\n")
        #expect(Self.reply(["SELECT", "-1"]) == "-ERR SELECT is not allowed in cluster mode\r\n")
        #expect(Self.reply(["SELECT", "15"]) == "-ERR SELECT is not allowed in cluster mode\r\n")
    }

    @Test("SELECT of something that is not an integer", arguments: ["abc", "", "1.5", " 0", "0 ", "99999999999999999999"])
    func selectNotInteger(database: String) {
        #expect(Self.reply(["SELECT", database]) == "-ERR value is not an integer or out of range\r\n")
    }

    // Checked against redis-server 7.0.15 in cluster mode: `SELECT 00`, `SELECT +0` and
    // `SELECT -0` all reply `-ERR value is not an integer or out of range` (string2ll rejects a
    // sign, leading zeros and "-0").
    // BUG (Sources/SlotgateProxy/LocalCommand.swift:40): Swift's `Int(_:)` accepts "00", "+0" and
    // "-0", so Slotgate answers +OK where Redis answers an error.
    @Test("SELECT of a number Redis does not accept as an integer", arguments: ["00", "+0", "-0"])
    func selectRedisIntegerSyntax(database: String) {
        #expect(Self.reply(["SELECT", database]) == "-ERR value is not an integer or out of range\r\n")
    }

    @Test("SELECT without exactly one argument is a wrong-arity error")
    func selectArity() {
        #expect(Self.reply(["SELECT"]) == "-ERR wrong number of arguments for 'select' command\r\n")
        #expect(Self.reply(["SELECT", "0", "1"]) == "-ERR wrong number of arguments for 'select' command\r\n")
    }

    @Test("other commands are not local", arguments: ["GET", "SET", "CLUSTER", "COMMAND", "PINGX", "AUTH", "HELLO"])
    func notLocal(name: String) {
        #expect(Self.answer([name, "x"]) == nil)
    }
}
