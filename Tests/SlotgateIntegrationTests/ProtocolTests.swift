//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateRESP
import Testing

extension LiveClusterSuite {
    /// A client's protocol never matters: redis-py in RESP2 and in RESP3 (its default since 8.0),
    /// and `redis-cli -3`, run the same workload through Slotgate at the same time.
    @Suite struct ProtocolTests {
        @Test func resp2AndResp3ClientsRunTheSameWorkload() throws {
            let (_, proxy) = try liveCluster()
            try ClientWorkload.run("run_protocol_workload.sh", port: proxy.port, summaryPrefix: "OK: redis-py")
        }

        /// A RESP3 client gets the node's RESP3 bytes untouched: maps, sets, doubles, nulls and
        /// verbatim strings read through Slotgate are byte for byte what the node itself sends.
        @Test func resp3RepliesAreTheNodesOwnBytes() throws {
            let (cluster, proxy) = try liveCluster()
            let setup = try proxy.connect()
            #expect(try setup.command(["HSET", "{r3}:h", "a", "1", "b", "2"]).int == 2)
            #expect(try setup.command(["SADD", "{r3}:s", "x"]).int == 1)
            #expect(try setup.command(["ZADD", "{r3}:z", "1.5", "m"]).int == 1)
            let commands = [
                "HGETALL {r3}:h", "SMEMBERS {r3}:s", "ZRANGE {r3}:z 0 -1 WITHSCORES", "ZSCORE {r3}:z m", "GET {r3}:missing",
                "HRANDFIELD {r3}:h -5 WITHVALUES", "OBJECT ENCODING {r3}:h", "TYPE {r3}:z", "EXISTS {r3}:h", "LPOS {r3}:nolist x",
            ]
            let node = try #require(try cluster.slotMap().master(for: HashSlot(key: "r3")))
            let throughProxy = try Self.resp3Replies(port: proxy.port, commands)
            let direct = try Self.resp3Replies(port: node.port, commands)
            #expect(throughProxy.count == commands.count)
            for (index, command) in commands.enumerated() where !command.hasPrefix("HRANDFIELD") {
                #expect(throughProxy[index] == direct[index], "\(command)")
            }
            #expect(throughProxy[0].hasPrefix("%2\r\n"))
            #expect(throughProxy[1].hasPrefix("~1\r\n"))
            #expect(throughProxy[3] == ",1.5\r\n")
            #expect(throughProxy[4] == "_\r\n")
        }

        /// A subscribed RESP3 client may go on sending commands; their replies and the push
        /// frames arrive in order.
        @Test func resp3SubscriberKeepsRunningCommands() throws {
            let (_, proxy) = try liveCluster()
            let setup = try proxy.connect()
            #expect(try setup.command(["SET", "{r3sub}:k", "v"]) == .simpleString("OK"))
            let client = try RawClient(port: proxy.port)
            try client.send("HELLO 3\r\nSUBSCRIBE r3news\r\nGET {r3sub}:k\r\n")
            let framer = RESP3ReplyFramer()
            // HELLO, the subscription's confirmation and GET's reply; then a message is published.
            var frames = try Self.readFrames(client, framer, count: 3)
            _ = try setup.command(["PUBLISH", "r3news", "hello"])
            frames = try Self.readFrames(client, framer, count: 4, into: frames)
            #expect(frames.count == 4)
            #expect(frames.dropFirst().first == ">3\r\n$9\r\nsubscribe\r\n$6\r\nr3news\r\n:1\r\n")
            #expect(frames.dropFirst(2).first == "$1\r\nv\r\n")
            #expect(frames.dropFirst(3).first == ">3\r\n$7\r\nmessage\r\n$6\r\nr3news\r\n$5\r\nhello\r\n")
        }

        /// `RESET` takes a RESP3 client back to RESP2, as Redis does.
        @Test func resetReturnsToResp2() throws {
            let (_, proxy) = try liveCluster()
            let client = try RawClient(port: proxy.port)
            try client.send("HELLO 3\r\nGET {r3reset}:missing\r\nRESET\r\nGET {r3reset}:missing\r\n")
            let framer = RESP3ReplyFramer()
            let replies = try Self.readFrames(client, framer, count: 4)
            #expect(Array(replies.dropFirst()) == ["_\r\n", "+RESET\r\n", "$-1\r\n"])
        }

        /// Sends `HELLO 3` and `commands` (inline) on a raw socket and returns each reply's bytes, HELLO's left out.
        private static func resp3Replies(port: Int, _ commands: [String]) throws -> [String] {
            let client = try RawClient(port: port)
            try client.send((["HELLO 3"] + commands).map { $0 + "\r\n" }.joined())
            return Array(try Self.readFrames(client, RESP3ReplyFramer(), count: commands.count + 1).dropFirst())
        }

        /// Reads until `framer` has framed at least `count` replies (or the connection closes).
        private static func readFrames(_ client: RawClient, _ framer: RESP3ReplyFramer, count: Int, into frames: [String] = []) throws -> [String] {
            var frames = frames
            while frames.count < count {
                let bytes = client.receive(atLeast: 1)
                guard !bytes.isEmpty else { throw HarnessError("connection closed after \(frames.count) replies") }
                framer.feed(ByteBuffer(bytes: bytes))
                while let frame = try framer.next() { frames.append(String(buffer: frame.bytes)) }
            }
            return frames
        }
    }
}
