//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import NIOCore
import SlotgateCluster
import SlotgateConfiguration
import SlotgateProxy
import SlotgateRESP
import Testing

extension LiveClusterSuite {
    /// The limits on clients: `maxclients`, the idle `timeout` and `client-output-buffer-limit`
    /// each hold, affect only the client at fault, and lose nothing for the others.
    @Suite struct LimitsTests {
        /// With `maxclients 3`, a fourth client gets Redis's error and is disconnected; once one
        /// leaves, a new client is served again.
        @Test func maxClientsRejectsTheClientTooMany() async throws {
            try await withOwnProxy({ $0.maxClients = 3 }) { proxy in
                // ProxyUnderTest's own readiness client has gone; wait until the count has dropped.
                try await Task.sleep(for: .milliseconds(100))
                var admitted = try (0..<3).map { _ in try proxy.connect() }
                for client in admitted { #expect(try client.command(["PING"]) == .simpleString("PONG")) }
                let extra = try proxy.connect()
                #expect(try extra.readReply() == .error("ERR max number of clients reached"))
                #expect(throws: (any Error).self) { try extra.command(["PING"]) }
                admitted.removeFirst()
                try await Task.sleep(for: .milliseconds(100))
                let next = try proxy.connect()
                #expect(try next.command(["SET", "limits:maxclients", "ok"]) == .simpleString("OK"))
            }
        }

        /// A client that asks for large values and never reads them is disconnected once more than
        /// `client-output-buffer-limit` bytes wait for it; a client reading at the same time gets
        /// every reply.
        @Test func outputBufferLimitDisconnectsAClientThatDoesNotRead() async throws {
            try await withOwnProxy({ $0.clientOutputBufferLimit = 1024 * 1024 }) { proxy in
                let value = String(repeating: "x", count: 500_000)
                let writer = try proxy.connect()
                #expect(try writer.command(["SET", "limits:big", value]) == .simpleString("OK"))

                let stuck = try RawClient(port: proxy.port)
                var requests = ByteBuffer()
                for _ in 0..<200 { requests.writeRESPCommand(["GET", "limits:big"]) }
                try stuck.send(Array(requests.readableBytesView))
                // The reader beside it: every GET answered in full while the other one is cut off.
                for _ in 0..<20 { #expect(try writer.command(["GET", "limits:big"]).string?.count == value.count) }
                try await Task.sleep(for: .seconds(2))
                let received = stuck.receive(atLeast: 200 * value.count).count
                let closed = stuck.peerClosed()
                print("Limits output buffer: the non-reading client got \(received) of \(200 * value.count) bytes before it was closed: \(closed)")
                #expect(closed)
                #expect(received < 200 * value.count)
            }
        }

        /// A subscriber that never reads its messages is disconnected once more than
        /// `client-output-buffer-limit-pubsub` bytes wait for it, as Redis does, so its messages
        /// cannot pile up in Slotgate's memory; the publisher beside it is unaffected.
        @Test func slowSubscriberIsDisconnectedAtThePubSubLimit() async throws {
            try await withOwnProxy({ $0.clientOutputBufferLimitPubSub = 1024 * 1024 }) { proxy in
                let stuck = try RawClient(port: proxy.port)
                var subscribe = ByteBuffer()
                subscribe.writeRESPCommand(["SUBSCRIBE", "limits:slow"])
                try stuck.send(Array(subscribe.readableBytesView))
                try await Task.sleep(for: .milliseconds(300))
                let publisher = try proxy.connect()
                let message = String(repeating: "m", count: 100_000)
                let published = 400
                for _ in 0..<published {
                    #expect(try publisher.command(["PUBLISH", "limits:slow", message]).int != nil)
                }
                #expect(try publisher.command(["PING"]) == .simpleString("PONG"))
                let received = stuck.receive(atLeast: published * message.count).count
                let closed = stuck.peerClosed()
                print("Limits pubsub: the subscriber that did not read got \(received) of \(published * message.count) bytes; closed: \(closed)")
                #expect(closed)
                #expect(received < published * message.count)
            }
        }

        /// With `timeout 1`, an idle client is closed after about a second; a client blocked in
        /// BLPOP for longer is not.
        @Test func idleClientsAreClosedButBlockedOnesStay() async throws {
            try await withOwnProxy({ $0.idleTimeout = 1 }) { proxy in
                let idle = try proxy.connect()
                #expect(try idle.command(["PING"]) == .simpleString("PONG"))
                let blocked = try proxy.connect()
                try blocked.append(["BLPOP", "limits:never-pushed", "3"])
                try blocked.flush()
                try await Task.sleep(for: .milliseconds(2500))
                #expect(throws: (any Error).self) { try idle.command(["PING"]) }
                #expect(try blocked.readReply() == .null)
                #expect(try blocked.command(["PING"]) == .simpleString("PONG"))
            }
        }

        /// With `max-in-flight-per-node 1`, a pipeline of GETs to one node gets some answered and the
        /// rest refused at once with the limit's error, in order; nothing waits without bound.
        @Test func inFlightCapPerNodeRefusesTheExcess() async throws {
            try await withOwnProxy({ $0.maxInFlightPerNode = 1 }) { proxy in
                let client = try proxy.connect()
                for _ in 0..<100 { try client.append(["GET", "limits:in-flight"]) }
                try client.flush()
                var answered = 0
                var refused = 0
                for _ in 0..<100 {
                    switch try client.readReply() {
                    case .null: answered += 1
                    case .error(let message) where message.contains("max-in-flight-per-node"): refused += 1
                    case let other: Issue.record("unexpected reply \(other)")
                    }
                }
                print("Limits in-flight cap 1: \(answered) answered, \(refused) refused of 100 pipelined GETs")
                #expect(answered >= 1 && refused >= 1 && answered + refused == 100)
            }
        }
    }
}
