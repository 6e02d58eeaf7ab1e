//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import SlotgateCluster
import SlotgateRESP
import Testing

extension LiveClusterSuite {
    /// The everyday promise: any key, any pipeline, any client count, through one port.
    @Suite struct DataPathTests {
        @Test func keysInEverySlotRangeRoundTrip() throws {
            let (cluster, proxy) = try liveCluster()
            let client = try proxy.connect()
            let keys = (0..<2000).map { "roundtrip:\($0)" }
            for key in keys { try client.append(["SET", key, "value-of-\(key)"]) }
            for _ in keys { #expect(try client.readReply() == .simpleString("OK")) }
            for key in keys { try client.append(["GET", key]) }
            for key in keys { #expect(try client.readReply().string == "value-of-\(key)") }

            // The keys really are spread over every master, and each is stored on its slot's owner.
            let map = try cluster.slotMap()
            let owners = Set(keys.map { map.master(for: HashSlot(key: $0))! })
            #expect(owners.count == 3)
            let sample = keys[1234]
            let direct = try cluster.connect(map.master(for: HashSlot(key: sample))!)
            #expect(try direct.command(["GET", sample]).string == "value-of-\(sample)")
        }

        @Test func deepMixedPipelineAnswersInOrder() throws {
            let (_, proxy) = try liveCluster()
            let client = try proxy.connect()
            var expected: [RESPValue] = []
            var counters = [Int](repeating: 0, count: 100)
            for index in 0..<10_000 {
                switch index % 4 {
                case 0:
                    try client.append(["SET", "pipe:\(index)", "v\(index)"])
                    expected.append(.simpleString("OK"))
                case 1:
                    try client.append(["GET", "pipe:\(index - 1)"])
                    expected.append(.bulkString(Array("v\(index - 1)".utf8)))
                case 2:
                    let counter = index % 100
                    counters[counter] += 1
                    try client.append(["INCR", "pipe:counter:\(counter)"])
                    expected.append(.integer(counters[counter]))
                default:
                    try client.append(["PING"])
                    expected.append(.simpleString("PONG"))
                }
            }
            for (index, value) in expected.enumerated() {
                let reply = try client.readReply()
                #expect(reply == value, "reply \(index)")
                if reply != value { break }
            }
        }

        @Test func twentyMegabyteValueRoundTrips() throws {
            let (_, proxy) = try liveCluster()
            let client = try proxy.connect()
            let value = (0..<(20 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
            try client.append([Array("SET".utf8), Array("big:value".utf8), value])
            #expect(try client.readReply() == .simpleString("OK"))
            try client.append(["GET", "big:value"])
            let reply = try client.readReply()
            guard case .bulkString(let bytes) = reply else {
                Issue.record("GET returned \(reply)")
                return
            }
            #expect(bytes.count == value.count)
            #expect(bytes == value)
        }

        @Test func fiftyConcurrentClientsGetTheirOwnAnswers() throws {
            let (_, proxy) = try liveCluster()
            let failures = FailureLog()
            let group = DispatchGroup()
            for clientIndex in 0..<50 {
                group.enter()
                let thread = Thread {
                    defer { group.leave() }
                    do {
                        let client = try proxy.connect()
                        for round in 0..<10 {
                            for item in 0..<50 { try client.append(["SET", "c\(clientIndex):\(item)", "\(clientIndex)-\(round)-\(item)"]) }
                            for item in 0..<50 { try client.append(["GET", "c\(clientIndex):\(item)"]) }
                            for _ in 0..<50 where try client.readReply() != .simpleString("OK") { failures.add("client \(clientIndex): SET failed") }
                            for item in 0..<50 {
                                let reply = try client.readReply().string
                                if reply != "\(clientIndex)-\(round)-\(item)" { failures.add("client \(clientIndex) got \(reply ?? "nil")") }
                            }
                        }
                    } catch {
                        failures.add("client \(clientIndex): \(error)")
                    }
                }
                thread.start()
            }
            #expect(group.wait(timeout: .now() + 120) == .success)
            #expect(failures.entries.isEmpty, "\(failures.entries.prefix(5))")
        }

        @Test func crossSlotAndUnknownCommandsGetRedisErrors() throws {
            let (_, proxy) = try liveCluster()
            let client = try proxy.connect()
            #expect(try client.command(["MSETNX", "a", "1", "b", "2"]) == .error("CROSSSLOT Keys in request don't hash to the same slot"))
            #expect(try client.command(["MSET", "{t}a", "1", "{t}b", "2"]) == .simpleString("OK"))
            #expect(try client.command(["NOSUCH", "x"]) == .error("ERR unknown command 'NOSUCH', with args beginning with: 'x' "))
            #expect(try client.command(["GET"]) == .error("ERR wrong number of arguments for 'get' command"))
            #expect(try client.command(["SELECT", "0"]) == .simpleString("OK"))
            #expect(try client.command(["SELECT", "3"]) == .error("ERR SELECT is not allowed in cluster mode"))
            #expect(try client.command(["ECHO", "hi"]) == .bulkString(Array("hi".utf8)))
            #expect(try client.command(["PING"]) == .simpleString("PONG"))
            // The connection is still good after every error.
            #expect(try client.command(["GET", "{t}a"]).string == "1")
        }
    }
}

/// Collects failures from many threads for one assertion at the end.
final class FailureLog: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []

    func add(_ entry: String) {
        self.lock.withLock { self.list.append(entry) }
    }

    var entries: [String] { self.lock.withLock { self.list } }
}
