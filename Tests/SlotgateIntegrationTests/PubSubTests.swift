//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import SlotgateCluster
import SlotgateConfiguration
import SlotgateProxy
import SlotgateRESP
import Testing

extension LiveClusterSuite {
    /// Pub/sub through Slotgate: messages published anywhere in the cluster reach a subscriber,
    /// replies keep Redis's order, and a lost subscriber link is replaced without the client noticing.
    @Suite struct PubSubTests {
        @Test func subscriberReceivesMessagesPublishedOnAnyNode() throws {
            let (cluster, proxy) = try liveCluster()
            let subscriber = try proxy.connect()
            try subscriber.append(["SUBSCRIBE", "alerts", "news"])
            #expect(try subscriber.readReply() == Self.frame("subscribe", "alerts", 1))
            #expect(try subscriber.readReply() == Self.frame("subscribe", "news", 2))
            #expect(try subscriber.command(["GET", "x"]).string?.hasPrefix("ERR Can't execute 'get'") == true)
            #expect(try subscriber.command(["PING"]) == .array([.bulkString(Array("pong".utf8)), .bulkString([])]))

            let publisher = try proxy.connect()
            #expect(
                try publisher.command(["PUBSUB", "NUMSUB", "news", "nobody"])
                    == .array([
                        .bulkString(Array("news".utf8)), .integer(1), .bulkString(Array("nobody".utf8)), .integer(0),
                    ])
            )
            #expect(try publisher.command(["PUBSUB", "CHANNELS", "ne*"]) == .array([.bulkString(Array("news".utf8))]))
            // Published straight on every master, and through Slotgate.
            for (index, shard) in try cluster.slotMap().shards.enumerated() {
                // PUBLISH counts only the receiving node's own subscribers, so it says 0 or 1.
                let local = try cluster.connect(shard.master).command(["PUBLISH", "news", "direct-\(index)"]).int
                #expect(local == 0 || local == 1)
            }
            // Through Slotgate, PUBLISH counts every client subscribed through Slotgate, as one Redis would.
            #expect(try publisher.command(["PUBLISH", "alerts", "via-slotgate"]) == .integer(1))
            var received: [String] = []
            for _ in 0..<4 {
                let message = try #require(subscriber.readReply().array)
                received.append(message.compactMap(\.string).joined(separator: " "))
            }
            #expect(Set(received) == ["message news direct-0", "message news direct-1", "message news direct-2", "message alerts via-slotgate"])

            // Unsubscribing from everything leaves subscribed mode: ordinary commands work again.
            try subscriber.append(["UNSUBSCRIBE"])
            try subscriber.append(["SET", "after:pubsub", "1"])
            let first = try #require(subscriber.readReply().array)
            let second = try #require(subscriber.readReply().array)
            #expect(Set([first[1], second[1]]) == [.bulkString(Array("alerts".utf8)), .bulkString(Array("news".utf8))])
            #expect([first[2], second[2]].contains(.integer(0)))
            #expect(try subscriber.readReply() == .simpleString("OK"))
            #expect(try subscriber.command(["UNSUBSCRIBE", "nothing"]) == Self.frame("unsubscribe", "nothing", 0))
        }

        @Test func lostSubscriberLinkIsReplacedWithoutTheClientNoticing() throws {
            let (cluster, proxy) = try liveCluster()
            let subscriber = try proxy.connect()
            #expect(try subscriber.command(["SUBSCRIBE", "resilient"]) == Self.frame("subscribe", "resilient", 1))
            // Kill every pub/sub connection on every master: the proxy's subscriber link among them.
            for shard in try cluster.slotMap().shards {
                _ = try cluster.connect(shard.master).command(["CLIENT", "KILL", "TYPE", "pubsub"])
            }
            let publisher = try proxy.connect()
            var delivered = 0
            for _ in 0..<100 where delivered == 0 {
                delivered = try publisher.command(["PUBLISH", "resilient", "after-loss"]).int ?? 0
                if delivered == 0 { Thread.sleep(forTimeInterval: 0.05) }
            }
            #expect(delivered == 1)
            // The next frame the client sees is the message: no error, no second confirmation.
            #expect(
                try subscriber.readReply()
                    == .array([
                        .bulkString(Array("message".utf8)), .bulkString(Array("resilient".utf8)), .bulkString(Array("after-loss".utf8)),
                    ])
            )
        }

        @Test func shardedSubscriberReceivesSpublish() throws {
            let (_, proxy) = try liveCluster()
            let subscriber = try proxy.connect()
            try subscriber.append(["SSUBSCRIBE", "{orders}:eu", "{orders}:us"])
            #expect(try subscriber.readReply() == Self.frame("ssubscribe", "{orders}:eu", 1))
            #expect(try subscriber.readReply() == Self.frame("ssubscribe", "{orders}:us", 2))
            #expect(try subscriber.command(["SSUBSCRIBE", "{a}x", "{b}y"]) == .error("CROSSSLOT Keys in request don't hash to the same slot"))
            let publisher = try proxy.connect()
            #expect(try publisher.command(["SPUBLISH", "{orders}:eu", "order-1"]) == .integer(1))
            #expect(
                try subscriber.readReply()
                    == .array([
                        .bulkString(Array("smessage".utf8)), .bulkString(Array("{orders}:eu".utf8)), .bulkString(Array("order-1".utf8)),
                    ])
            )
            #expect(
                try publisher.command(["PUBSUB", "SHARDNUMSUB", "{orders}:us"]) == .array([.bulkString(Array("{orders}:us".utf8)), .integer(1)])
            )
        }

        /// A shard channel's slot moves to another master: the old node drops the subscription,
        /// and Slotgate makes it again on the new owner without the client seeing the drop.
        @Test func shardedSubscriptionFollowsItsSlot() throws {
            let (cluster, proxy) = try liveCluster()
            let channel = "{moving-channel}:news"
            let slot = HashSlot(key: channel)
            let map = try cluster.slotMap()
            let source = try #require(map.master(for: slot))
            let target = try #require(map.shards.map(\.master).first { $0 != source })
            let subscriber = try proxy.connect()
            #expect(try subscriber.command(["SSUBSCRIBE", channel]) == Self.frame("ssubscribe", channel, 1))

            // Other tests' keys may live in the slot: they move with it.
            try cluster.moveSlot(slot, to: target)

            let publisher = try proxy.connect()
            var delivered = 0
            for _ in 0..<100 where delivered == 0 {
                delivered = try publisher.command(["SPUBLISH", channel, "after-move"]).int ?? 0
                if delivered == 0 { Thread.sleep(forTimeInterval: 0.05) }
            }
            #expect(delivered == 1)
            #expect(
                try subscriber.readReply()
                    == .array([
                        .bulkString(Array("smessage".utf8)), .bulkString(Array(channel.utf8)), .bulkString(Array("after-move".utf8)),
                    ])
            )
        }

        /// A client may hold only so many node links of its own; past the cap it is told so, and
        /// what it already holds keeps working.
        @Test func perClientLinkCapIsEnforced() async throws {
            let (cluster, _) = try liveCluster()
            let proxy = try await ProxyUnderTest.start(seeds: [cluster.nodes[0]]) { $0.maxExclusiveLinksPerClient = 3 }
            do {
                let map = try cluster.slotMap()
                // A shard channel on each master: the third link is one too many with a classic one.
                let channels = map.shards.map { shard in
                    (0..<10_000).map { "{cap\($0)}:ch" }.first { map.master(for: HashSlot(key: $0)) == shard.master }!
                }
                let client = try proxy.connect()
                #expect(try client.command(["SUBSCRIBE", "cap:classic"]) == Self.frame("subscribe", "cap:classic", 1))
                #expect(try client.command(["SSUBSCRIBE", channels[0]]) == Self.frame("ssubscribe", channels[0], 1))
                #expect(try client.command(["SSUBSCRIBE", channels[1]]) == Self.frame("ssubscribe", channels[1], 1))
                let refused = try client.command(["SSUBSCRIBE", channels[2]])
                #expect(refused.string?.contains("max-exclusive-links-per-client 3") == true, "\(refused)")
                #expect(try client.command(["PING"]) == .array([.bulkString(Array("pong".utf8)), .bulkString([])]))
            } catch {
                try await proxy.stop()
                throw error
            }
            try await proxy.stop()
        }

        /// PUBLISH through Slotgate counts every client subscribed through it, by channel and by
        /// matching pattern, however many connections and loops they use; PUBSUB agrees.
        @Test func publishCountsEverySubscriberThroughSlotgate() throws {
            let (_, proxy) = try liveCluster()
            let publisher = try proxy.connect()
            let patternsBefore = try #require(try publisher.command(["PUBSUB", "NUMPAT"]).int)
            var subscribers: [BlockingRedisConnection] = []
            for index in 0..<4 {
                let subscriber = try proxy.connect()
                #expect(try subscriber.command(["SUBSCRIBE", "counted:news"]) == Self.frame("subscribe", "counted:news", 1), "\(index)")
                subscribers.append(subscriber)
            }
            let watcher = try proxy.connect()
            #expect(try watcher.command(["PSUBSCRIBE", "counted:*"]) == Self.frame("psubscribe", "counted:*", 1))
            #expect(try watcher.command(["SUBSCRIBE", "counted:news"]) == Self.frame("subscribe", "counted:news", 2))
            #expect(try publisher.command(["PUBLISH", "counted:news", "hello"]) == .integer(6))
            #expect(try publisher.command(["PUBLISH", "counted:other", "hello"]) == .integer(1))
            #expect(
                try publisher.command(["PUBSUB", "NUMSUB", "counted:news"]) == .array([.bulkString(Array("counted:news".utf8)), .integer(5)])
            )
            #expect(try publisher.command(["PUBSUB", "NUMPAT"]) == .integer(patternsBefore + 1))
            for subscriber in subscribers {
                #expect(try subscriber.readReply() == .array(["message", "counted:news", "hello"].map { .bulkString(Array($0.utf8)) }))
            }
        }

        /// With `CLIENT REPLY OFF`, a client still gets its subscription confirmations and
        /// messages, as from Redis (RESP3 here, RESP2 in the next test).
        @Test func resp3PushesArriveWithRepliesOff() throws {
            let (_, proxy) = try liveCluster()
            let client = try RawClient(port: proxy.port)
            try client.send("HELLO 3\r\nCLIENT REPLY OFF\r\nSUBSCRIBE quiet:ch\r\nPING\r\n")
            let confirmation = ">3\r\n$9\r\nsubscribe\r\n$8\r\nquiet:ch\r\n:1\r\n"
            var received = ""
            for _ in 0..<100 where !received.contains(confirmation) {
                let chunk = client.receive(atLeast: 1)
                if chunk.isEmpty { break }
                received += String(decoding: chunk, as: UTF8.self)
            }
            #expect(received.hasSuffix(confirmation), "the HELLO reply, then only the push: \(received)")
            #expect(try proxy.connect().command(["PUBLISH", "quiet:ch", "hi"]) == .integer(1))
            let message = ">3\r\n$7\r\nmessage\r\n$8\r\nquiet:ch\r\n$2\r\nhi\r\n"
            #expect(String(decoding: client.receive(atLeast: message.utf8.count), as: UTF8.self) == message)
        }

        /// Keyspace notifications from every master reach a client subscribed through Slotgate,
        /// once each, and a published message matching the same pattern arrives once.
        @Test func keyspaceNotificationsFromEveryMaster() throws {
            let (cluster, proxy) = try liveCluster()
            let client = try proxy.connect()
            #expect(try client.command(["CONFIG", "SET", "notify-keyspace-events", "KA"]) == .simpleString("OK"))
            defer { _ = try? client.command(["CONFIG", "SET", "notify-keyspace-events", ""]) }
            let subscriber = try proxy.connect()
            #expect(try subscriber.command(["PSUBSCRIBE", "*"]) == Self.frame("psubscribe", "*", 1))
            let map = try cluster.slotMap()
            var keys: [String] = []
            for master in map.shards.map(\.master) {
                let key = "{\(LiveClusterSuite.TopologyChangeTests.tags("ks-", count: 1, servedBy: master, in: map)[0])}:k"
                keys.append(key)
                #expect(try client.command(["SET", key, "v"]) == .simpleString("OK"))
            }
            #expect(try client.command(["PUBLISH", "plain:channel", "once"]) == .integer(1))
            var received: [String] = []
            for _ in 0..<(keys.count + 1) {
                received.append((try subscriber.readReply().array ?? []).compactMap(\.string).joined(separator: " "))
            }
            #expect(Set(received) == Set(keys.map { "pmessage * __keyspace@0__:\($0) set" } + ["pmessage * plain:channel once"]))
            #expect(try subscriber.command(["PUNSUBSCRIBE"]) == Self.frame("punsubscribe", "*", 0))
            #expect(try subscriber.command(["PING"]) == .simpleString("PONG"), "out of subscribed mode, and nothing else arrived")
        }

        @Test func resp2ConfirmationsArriveWithRepliesOff() throws {
            let (_, proxy) = try liveCluster()
            let client = try RawClient(port: proxy.port)
            try client.send("CLIENT REPLY OFF\r\nPSUBSCRIBE quiet2:*\r\n")
            let confirmation = "*3\r\n$10\r\npsubscribe\r\n$8\r\nquiet2:*\r\n:1\r\n"
            #expect(String(decoding: client.receive(atLeast: confirmation.utf8.count), as: UTF8.self) == confirmation)
        }

        private static func frame(_ type: String, _ channel: String, _ count: Int) -> RESPValue {
            .array([.bulkString(Array(type.utf8)), .bulkString(Array(channel.utf8)), .integer(count)])
        }
    }
}
