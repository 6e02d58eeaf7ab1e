//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import SlotgateRESP
import Testing

extension LiveClusterSuite {
    /// What arrives on the client port is parsed like Redis parses it: any fragmentation, inline
    /// commands, and a protocol error that ends only the offending connection.
    @Suite struct ClientProtocolTests {
        @Test func commandSentOneByteAtATimeIsAnswered() throws {
            let (_, proxy) = try liveCluster()
            let client = try RawClient(port: proxy.port)
            let request = "*3\r\n$3\r\nSET\r\n$10\r\nbytewise:1\r\n$5\r\nhello\r\n*2\r\n$3\r\nGET\r\n$10\r\nbytewise:1\r\n"
            for byte in request.utf8 { try client.send([byte]) }
            let expected = "+OK\r\n$5\r\nhello\r\n"
            #expect(String(decoding: client.receive(atLeast: expected.utf8.count), as: UTF8.self) == expected)
        }

        @Test func inlineCommandsWork() throws {
            let (_, proxy) = try liveCluster()
            let client = try RawClient(port: proxy.port)
            try client.send("SET inline:1 \"two words\"\r\nGET inline:1\nPING\r\n")
            let expected = "+OK\r\n$9\r\ntwo words\r\n+PONG\r\n"
            #expect(String(decoding: client.receive(atLeast: expected.utf8.count), as: UTF8.self) == expected)
        }

        @Test(arguments: [
            ("*1\r\n$x\r\n", "-ERR Protocol error: invalid bulk length\r\n"),
            ("*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n"),
            ("*1\r\n+PING\r\n", "-ERR Protocol error: expected '$', got '+'\r\n"),
            ("SET \"unbalanced\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"),
        ])
        func protocolErrorClosesOnlyThatConnection(request: String, expected: String) throws {
            let (_, proxy) = try liveCluster()
            let bystander = try proxy.connect()
            let client = try RawClient(port: proxy.port)
            // A good command first: its reply must not be lost to the error that follows it.
            try client.send("*2\r\n$3\r\nGET\r\n$14\r\nmissing:key:42\r\n" + request)
            let replies = String(decoding: client.receive(atLeast: 5 + expected.utf8.count), as: UTF8.self)
            #expect(replies == "$-1\r\n" + expected)
            #expect(client.peerClosed())
            #expect(try bystander.command(["PING"]) == .simpleString("PONG"))
        }

        @Test func hugeDeclaredBulkIsNotAllocatedAndConnectionStaysUsable() throws {
            let (_, proxy) = try liveCluster()
            let client = try RawClient(port: proxy.port)
            // Declares a 500 MB argument but sends only a little of it, then gives up.
            try client.send("*2\r\n$3\r\nGET\r\n$524288000\r\nonly-a-few-bytes")
            let bystander = try proxy.connect()
            #expect(try bystander.command(["PING"]) == .simpleString("PONG"))
            // A bulk over proto-max-bulk-len is refused outright.
            let greedy = try RawClient(port: proxy.port)
            try greedy.send("*2\r\n$3\r\nGET\r\n$536870913\r\n")
            let expected = "-ERR Protocol error: invalid bulk length\r\n"
            #expect(String(decoding: greedy.receive(atLeast: expected.utf8.count), as: UTF8.self) == expected)
        }

        /// Connection commands are answered by Slotgate and never reach a shared node link, where
        /// one client's `HELLO` or `CLIENT TRACKING ON` would change the link under every other client.
        @Test func connectionCommandsStayWithTheirClient() throws {
            let (_, proxy) = try liveCluster()
            let bystander = try proxy.connect()
            for index in 0..<100 { try bystander.append(["SET", "bystander:conn:\(index)", "\(index)"]) }
            let client = try proxy.connect()
            #expect(try client.command(["HELLO", "4"]) == .error("NOPROTO sorry, this protocol version is not supported"))
            #expect(try client.command(["DISCARD"]) == .error("ERR DISCARD without MULTI"))
            #expect(try client.command(["CLIENT", "TRACKING", "ON"]).string?.contains("not available through Slotgate") == true)
            let hello = try #require(client.command(["HELLO", "2", "SETNAME", "worker-1"]).keyValuePairs)
            #expect(hello.first { $0.key == "proto" }?.value == .integer(2))
            #expect(hello.first { $0.key == "version" }?.value.string?.hasPrefix("7.") == true)
            #expect(try client.command(["CLIENT", "GETNAME"]).string == "worker-1")
            #expect(
                try client.command(["CLIENT", "SETNAME", "bad name"])
                    == .error("ERR Client names cannot contain spaces, newlines or special characters.")
            )
            #expect(try client.command(["CLIENT", "SETINFO", "lib-name", "redis-py"]) == .simpleString("OK"))
            #expect(try client.command(["CLIENT", "ID"]).int != nil)
            #expect(try client.command(["READONLY"]) == .simpleString("OK"))
            #expect(try client.command(["RESET"]) == .simpleString("RESET"))
            #expect(try client.command(["CLIENT", "GETNAME"]) == .null)
            // The other client's pipeline went through untouched.
            for _ in 0..<100 { #expect(try bystander.readReply() == .simpleString("OK")) }
            #expect(try bystander.command(["GET", "bystander:conn:99"]).string == "99")
        }

        /// `CLIENT LIST` and `CLIENT KILL` speak of Slotgate's clients, on every event loop.
        @Test func clientListAndKillCoverAllOfSlotgatesClients() throws {
            let (_, proxy) = try liveCluster()
            let admin = try proxy.connect()
            var others: [BlockingRedisConnection] = []
            for index in 0..<4 {
                let other = try proxy.connect()
                #expect(try other.command(["CLIENT", "SETNAME", "listed-\(index)"]) == .simpleString("OK"))
                others.append(other)
            }
            let list = try #require(admin.command(["CLIENT", "LIST"]).string)
            for index in 0..<4 { #expect(list.contains("name=listed-\(index) ")) }
            let victim = try #require(others[2].command(["CLIENT", "ID"]).int)
            #expect(try admin.command(["CLIENT", "KILL", "ID", "\(victim)"]) == .integer(1))
            #expect(throws: BlockingRedisConnectionError.self) { try others[2].command(["PING"]) }
            #expect(try others[3].command(["PING"]) == .simpleString("PONG"))
            #expect(try admin.command(["CLIENT", "KILL", "ID", "999999999"]) == .integer(0))
            #expect(try admin.command(["CLIENT", "KILL", "10.9.9.9:1"]) == .error("ERR No such client"))
            #expect(try !(admin.command(["CLIENT", "LIST"]).string ?? "").contains("name=listed-2 "))
        }

        /// A client that pipelines far more than it reads is paused, not buffered without end,
        /// and gets every reply, in order, once it reads.
        @Test func floodingClientIsPausedAndLosesNothing() throws {
            let (_, proxy) = try liveCluster()
            let client = try RawClient(port: proxy.port)
            let count = 60_000
            var request = ""
            for index in 0..<count { request += "ECHO \(index % 10)\r\n" }
            let expectedLength = count * "$1\r\n0\r\n".utf8.count
            let received = ReceivedBytes()
            let reader = Thread {
                // Reads only after a pause, so the proxy has to hold back.
                Thread.sleep(forTimeInterval: 0.5)
                received.set(client.receive(atLeast: expectedLength))
            }
            reader.start()
            try client.send(request)
            let bytes = try received.wait()
            #expect(bytes.count == expectedLength)
            var expected = [UInt8]()
            for index in 0..<count { expected += Array("$1\r\n\(index % 10)\r\n".utf8) }
            #expect(bytes == expected)
        }
    }
}

/// A value one thread receives for another to check.
final class Received<Value: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: Value?

    func set(_ value: Value) {
        self.condition.withLock {
            self.value = value
            self.condition.broadcast()
        }
    }

    /// Waits (at most 60 s) for the value.
    func wait() throws -> Value {
        let deadline = Date(timeIntervalSinceNow: 60)
        return try self.condition.withLock {
            while self.value == nil {
                guard self.condition.wait(until: deadline) else { throw HarnessError("nothing received in 60 s") }
            }
            return self.value!
        }
    }
}

/// Bytes one thread receives for another to check.
typealias ReceivedBytes = Received<[UInt8]>

extension LiveClusterSuite.ClientProtocolTests {
    /// `CLIENT INFO` and `CLIENT LIST` print the fields a node prints, in its order, with
    /// Slotgate's own figures for the client.
    @Test func clientInfoHasEveryFieldRedisPrints() throws {
        let (cluster, proxy) = try liveCluster()
        func fields(_ line: String) -> [(name: Substring, value: Substring)] {
            line.split(whereSeparator: \.isWhitespace).map { field in
                let parts = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return (parts[0], parts.count > 1 ? parts[1] : "")
            }
        }
        let nodeLine = try #require(try cluster.connect(cluster.nodes[0]).command(["CLIENT", "INFO"]).string)
        let client = try proxy.connect()
        let line = try #require(try client.command(["CLIENT", "INFO"]).string)
        #expect(fields(line).map(\.name) == fields(nodeLine).map(\.name), "\(line)")
        let info = Dictionary(uniqueKeysWithValues: fields(line).map { (String($0.name), String($0.value)) })
        #expect(info["cmd"] == "client|info")
        #expect(info["flags"] == "N")
        #expect(info["multi"] == "-1")
        #expect(info["qbuf"] == "26", "the CLIENT INFO request itself, as Redis counts it")
        #expect(info["age"].flatMap(Int.init) != nil && info["idle"].flatMap(Int.init) != nil)

        #expect(try client.command(["MULTI"]) == .simpleString("OK"))
        #expect(try client.command(["SET", "{info}:a", "1"]) == .simpleString("QUEUED"))
        #expect(try client.command(["INCR", "{info}:b"]) == .simpleString("QUEUED"))
        let subscriber = try proxy.connect()
        #expect(try subscriber.command(["CLIENT", "SETNAME", "info-subscriber"]) == .simpleString("OK"))
        _ = try subscriber.command(["SUBSCRIBE", "info:a"])
        _ = try subscriber.command(["SUBSCRIBE", "info:b"])
        _ = try subscriber.command(["PSUBSCRIBE", "info:*"])
        let observer = try proxy.connect()
        #expect(try observer.command(["CLIENT", "SETNAME", "info-observer"]) == .simpleString("OK"))
        let list = try #require(try observer.command(["CLIENT", "LIST"]).string).split(whereSeparator: \.isNewline)
        let transactionLine = try #require(list.first { $0.contains("cmd=incr ") })
        #expect(transactionLine.contains(" flags=x ") && transactionLine.contains(" multi=2 "), "\(transactionLine)")
        let subscriberLine = try #require(list.first { $0.contains("name=info-subscriber ") })
        #expect(subscriberLine.contains(" flags=P ") && subscriberLine.contains(" sub=2 psub=1 ssub=0 "), "\(subscriberLine)")
        #expect(subscriberLine.contains(" cmd=psubscribe "), "\(subscriberLine)")
        #expect(try client.command(["DISCARD"]) == .simpleString("OK"))
    }
}
