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

#if canImport(Glibc)
    import Glibc
#endif

extension LiveClusterSuite {
    /// Hostile and broken clients: malformed RESP, huge declared sizes, slowloris, thousands of
    /// connections, a client that never reads. Slotgate answers or closes only the client at fault,
    /// its memory stays bounded, and a well-behaved client beside them keeps getting right answers.
    ///
    /// Covered elsewhere and not repeated here: the four protocol errors of
    /// `ClientProtocolTests.protocolErrorClosesOnlyThatConnection`, a bulk just over
    /// `proto-max-bulk-len`, pausing a client that pipelines without reading
    /// (`ClientProtocolTests`), and the plain output-buffer, `maxclients` and pub/sub limits
    /// (`LimitsTests`).
    @Suite struct ProtocolAbuseTests {
        /// Malformed RESP of every kind, each on a connection of its own, gets through Slotgate
        /// exactly what a Redis 7.0 node answers to the same bytes (the node is the reference):
        /// the same `-ERR Protocol error: …` text and a closed connection where the node closes
        /// it, the same replies where the node reads the bytes as something else. A client on
        /// another connection gets correct `SET`/`GET` answers during and after.
        @Test(arguments: MalformedRequest.all)
        func malformedRequestIsAnsweredAsTheNodeAnswersIt(_ request: MalformedRequest) async throws {
            let (cluster, proxy) = try liveCluster()
            let healthy = try HealthyClient.start(port: proxy.port, key: "abuse:healthy:malformed")
            let outcome = try Self.expectAnsweredAsByTheNode(request.bytes, node: cluster.nodes[0], proxy: proxy)
            print("ProtocolAbuse malformed [\(request.name)]: \(outcome)")
            try healthy.finish().expectUnaffected()
            try Self.expectServes(proxy)
        }

        /// A bulk declared at 1 GB (over the 512 MB `proto-max-bulk-len`) is refused with the
        /// node's own error and the connection closed. Fifty clients that each declare a 500 MB
        /// bulk and then send only 1 KB of it make Slotgate hold what they sent, not the 25 GB
        /// they announce: the process's resident memory grows by far less than 200 MB, and a
        /// client beside them is served throughout.
        @Test func declaredBulksAreRefusedOverTheLimitAndNeverAllocatedUpFront() async throws {
            let (cluster, proxy) = try liveCluster()
            let filler = [UInt8](repeating: UInt8(ascii: "x"), count: 4096)
            let gigabyte = Array("*2\r\n$3\r\nGET\r\n$1073741824\r\n".utf8) + filler
            let refused = try Self.expectAnsweredAsByTheNode(gigabyte, node: cluster.nodes[0], proxy: proxy)
            print("ProtocolAbuse 1 GB bulk: \(refused)")
            #expect(refused.contains("-ERR Protocol error: invalid bulk length"))

            let declaration = Array("*2\r\n$3\r\nGET\r\n$500000000\r\n".utf8) + filler.prefix(1024)
            let report = try await Self.holdIncompleteRequests(proxy, count: 50, each: declaration, buffered: declaration.count)
            print("ProtocolAbuse 50 × 500 MB declared bulks: \(report)")
            #expect(report.growth < 200 * 1024 * 1024, "\(report)")
        }

        /// Ten clients that announce 1,000,000 arguments and send only three make Slotgate hold
        /// what they sent, not a million arguments' worth: resident memory grows by far less than
        /// 200 MB. One of them then sends the rest and gets the node's answer to the whole
        /// million-argument command; the others go away, and `connected_clients` is back where it
        /// was. A client beside them is served throughout.
        @Test func millionArgumentRequestsAreNotAllocatedUpFront() async throws {
            let (_, proxy) = try liveCluster()
            let key = "$13\r\n{abuse1m}:key\r\n"
            let declaration = Array(("*1000000\r\n$6\r\nEXISTS\r\n" + key + key).utf8)
            let observer = try proxy.connect()
            let baseline = try Self.connectedClients(observer)
            #expect(try observer.command(["SET", "{abuse1m}:key", "1"]) == .simpleString("OK"))
            var completed: [UInt8] = []
            let report = try await Self.holdIncompleteRequests(proxy, count: 10, each: declaration, buffered: declaration.count) { held in
                // The first one completes its request: EXISTS counts the key once per argument.
                completed = held[0].receiveAfterSending(Array(String(repeating: key, count: 999_997).utf8), atLeast: 9).bytes
            }
            print("ProtocolAbuse 10 × 1,000,000-argument declarations: \(report); completed one got \(Self.escaped(completed))")
            #expect(report.growth < 200 * 1024 * 1024, "\(report)")
            #expect(String(decoding: completed, as: UTF8.self) == ":999999\r\n")
            let after = try await Self.waitForConnectedClients(observer, atMost: baseline)
            #expect(after <= baseline, "connected_clients \(after), was \(baseline) before the clients came")
        }

        /// A NUL byte inside an inline command: Slotgate reads the line to its line end and answers
        /// it. Redis 7.0 looks for the line end with `strchr`, which stops at the NUL, so it waits
        /// for more bytes and answers nothing; Slotgate deliberately does not copy that.
        @Test func inlineCommandWithANulByteIsAnswered() throws {
            let (_, proxy) = try liveCluster()
            let client = try RawClient(port: proxy.port)
            try client.send(Array("ECHO a\0b\r\nPING\r\n".utf8))
            let expected = "$3\r\na\0b\r\n+PONG\r\n"
            #expect(String(decoding: client.receive(atLeast: expected.utf8.count), as: UTF8.self) == expected)
        }

        /// A request of 1,048,577 arguments (one past Redis 6's limit) gets through Slotgate what a
        /// Redis 7.0 node answers to it: 7.0.15 takes up to 2^31 - 1 arguments, so `ECHO` with
        /// 1,048,576 arguments gets its wrong-number-of-arguments error and the connection stays open.
        @Test func multibulkCountPastOneMebiIsAnsweredAsTheNodeAnswersIt() throws {
            let (cluster, proxy) = try liveCluster()
            let request = Array(("*1048577\r\n$4\r\nECHO\r\n" + String(repeating: "$1\r\nx\r\n", count: 1_048_576)).utf8)
            let outcome = try Self.expectAnsweredAsByTheNode(request, node: cluster.nodes[0], proxy: proxy)
            print("ProtocolAbuse *1048577: \(outcome)")
        }

        /// Slowloris: 200 clients each send a valid command one byte every 120 ms for about five
        /// seconds. A client beside them gets every `SET`, `GET` and `PING` answered in under
        /// 500 ms meanwhile, and each slow client, once its command is complete, gets its reply and
        /// its write is there.
        @Test func slowlorisClientsAreServedAndDoNotSlowOthers() async throws {
            let (_, proxy) = try liveCluster()
            let count = 200
            let keys = (0..<count).map { "abuse:slow:\($0)" }
            let values = (0..<count).map { "v\(100_000 + $0)" }
            let commands = (0..<count).map { index -> [UInt8] in
                // Half multibulk, half inline.
                guard index.isMultiple(of: 2) else { return Array("SET \(keys[index]) \(values[index])\r\n".utf8) }
                var request = ByteBuffer()
                request.writeRESPCommand(["SET", keys[index], values[index]])
                return Array(request.readableBytesView)
            }
            let slow = try (0..<count).map { _ in try RawClient(port: proxy.port) }
            let healthy = try HealthyClient.start(port: proxy.port, key: "abuse:healthy:slowloris")
            let clock = ContinuousClock()
            let started = clock.now
            let longest = commands.map(\.count).max() ?? 0
            for position in 0..<longest {
                for (client, command) in zip(slow, commands) where position < command.count {
                    try client.send([command[position]])
                }
                try await Task.sleep(for: .milliseconds(120))
            }
            let dripped = clock.now - started
            let report = try healthy.finish()
            print("ProtocolAbuse slowloris: \(count) clients, up to \(longest) bytes each over \(dripped); healthy client \(report)")
            report.expectUnaffected(slowest: .milliseconds(500))
            var answered = 0
            for client in slow where client.receive(atLeast: 5) == Array("+OK\r\n".utf8) { answered += 1 }
            #expect(answered == count)
            let reader = try proxy.connect()
            #expect(try reader.command(["MGET"] + keys) == .array(values.map { .bulkString(Array($0.utf8)) }))
        }

        /// 5,000 clients connected at once (`maxclients 6000`) each get `+PONG` to a `PING`, for
        /// less than 100 KB of resident memory each; once they leave, `connected_clients` is back
        /// where it was, and a client beside them is served throughout.
        @Test func fiveThousandConcurrentClientsAreServed() async throws {
            let count = 5000
            try Self.ensureDescriptors(2 * count + 1000)
            try await withOwnProxy({ $0.maxClients = 6000 }) { proxy in
                let observer = try proxy.connect()
                let healthy = try HealthyClient.start(port: proxy.port, key: "abuse:healthy:many")
                let baseline = try Self.connectedClients(observer)
                let before = ProcessMemory.resident
                let clock = ContinuousClock()
                let started = clock.now
                var clients: [RawClient] = []
                clients.reserveCapacity(count)
                for _ in 0..<count { clients.append(try RawClient(port: proxy.port)) }
                let connected = clock.now - started
                for client in clients { try client.send("PING\r\n") }
                var ponged = 0
                for client in clients where client.receive(atLeast: 7) == Array("+PONG\r\n".utf8) { ponged += 1 }
                let answered = clock.now - started
                let during = try Self.connectedClients(observer)
                let after = ProcessMemory.resident
                clients.removeAll()
                let left = try await Self.waitForConnectedClients(observer, atMost: baseline)
                let report = try healthy.finish()
                let perClient = (after - before) / count
                print(
                    "ProtocolAbuse \(count) clients: connected in \(connected), all answered after \(answered); \(ponged) PONGs;"
                        + " connected_clients \(baseline) → \(during) → \(left); RSS \(ProcessMemory.megabytes(before)) → "
                        + "\(ProcessMemory.megabytes(after)) (\(perClient) bytes per client); healthy client \(report)"
                )
                #expect(ponged == count)
                #expect(during == baseline + count)
                #expect(left == baseline)
                #expect(perClient < 100 * 1024)
                report.expectUnaffected()
            }
        }

        /// A client that pipelines 500 `GET`s of a 1 MB value and never reads is disconnected once
        /// more than `client-output-buffer-limit` (8 MB here) waits for it; while the node's 500 MB
        /// of replies stream through, Slotgate's resident memory peaks far below them, and a
        /// client beside it, and an idle one, are served as before. (`LimitsTests` shows the
        /// disconnection itself.)
        @Test func clientThatNeverReadsCostsBoundedMemory() async throws {
            let (cluster, _) = try liveCluster()
            try await withOwnProxy({ $0.clientOutputBufferLimit = 8 * 1024 * 1024 }) { proxy in
                let bigKey = "{abuse-big}:value"
                let map = try cluster.slotMap()
                let bigMaster = try #require(map.master(for: HashSlot(key: bigKey)))
                let healthyKey = try #require(
                    (0..<100).map { "abuse:healthy:nonreader:\($0)" }.first { map.master(for: HashSlot(key: $0)) != bigMaster }
                )
                let writer = try proxy.connect()
                #expect(try writer.command(["SET", bigKey, String(repeating: "v", count: 1024 * 1024)]) == .simpleString("OK"))
                let idle = try proxy.connect()
                var requests = ByteBuffer()
                requests.writeRESPCommand(["CLIENT", "SETNAME", "abuse-nonreader"])
                for _ in 0..<500 { requests.writeRESPCommand(["GET", bigKey]) }
                let pipeline = Array(requests.readableBytesView)
                let healthy = try HealthyClient.start(port: proxy.port, key: healthyKey)

                let getsBefore = try TopologyChangeTests.getCalls(cluster, [bigMaster])[0]
                let before = ProcessMemory.resident
                let peakReset = ProcessMemory.resetPeak()
                var sampledPeak = before
                let stuck = try RawClient(port: proxy.port)
                try stuck.send(pipeline)
                var gone = false
                for _ in 0..<600 where !gone {
                    try await Task.sleep(for: .milliseconds(50))
                    sampledPeak = max(sampledPeak, ProcessMemory.resident)
                    gone = try !(writer.command(["CLIENT", "LIST"]).string ?? "").contains("name=abuse-nonreader ")
                }
                // Let the rest of the 500 MB the node owes drain through Slotgate before the report.
                try await Task.sleep(for: .seconds(2))
                let peak = peakReset ? ProcessMemory.peak : max(sampledPeak, ProcessMemory.resident)
                let forwarded = try TopologyChangeTests.getCalls(cluster, [bigMaster])[0] - getsBefore
                let report = try healthy.finish()
                // Only a closed connection is read to its end: an open one would hand over all 500 MB.
                let received = gone ? stuck.receive(atLeast: 500 * 1024 * 1024).count : -1
                print(
                    "ProtocolAbuse non-reader: \(forwarded) of its 500 GETs reached the node; closed \(gone), it got \(received) of "
                        + "\(500 * (1024 * 1024 + 13)) bytes; RSS \(ProcessMemory.megabytes(before)) → peak "
                        + "\(ProcessMemory.megabytes(peak)) (exact peak: \(peakReset)); healthy client \(report)"
                )
                #expect(gone)
                #expect(received >= 0 && received < 100 * 1024 * 1024)
                #expect(peak - before < 100 * 1024 * 1024)
                report.expectUnaffected()
                #expect(try idle.command(["GET", healthyKey]).string?.hasPrefix("v") == true)
                #expect(try writer.command(["STRLEN", bigKey]) == .integer(1024 * 1024))
            }
        }
    }
}

// MARK: - Helpers

extension LiveClusterSuite.ProtocolAbuseTests {
    /// Sends `bytes` to `node` directly and through `proxy`, each on a fresh connection, and
    /// expects the same reply bytes and the same closing; returns a description of what came back.
    @discardableResult
    static func expectAnsweredAsByTheNode(
        _ bytes: [UInt8],
        node: NodeAddress,
        proxy: ProxyUnderTest,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> String {
        let direct = try RawClient(port: node.port).receiveAfterSending(bytes)
        let through = try RawClient(port: proxy.port).receiveAfterSending(bytes, atLeast: direct.bytes.count)
        let outcome =
            "node \(Self.escaped(direct.bytes)) \(direct.closed ? "closed" : "open"), "
            + "Slotgate \(Self.escaped(through.bytes)) \(through.closed ? "closed" : "open")"
        #expect(through.bytes == direct.bytes, "\(outcome)", sourceLocation: sourceLocation)
        #expect(through.closed == direct.closed, "\(outcome)", sourceLocation: sourceLocation)
        return outcome
    }

    /// What `holdIncompleteRequests` measured.
    struct HeldRequestsReport: CustomStringConvertible {
        var before: Int
        var after: Int
        var healthy: HealthyClient.Report
        var growth: Int { self.after - self.before }
        var description: String {
            "RSS \(ProcessMemory.megabytes(self.before)) → \(ProcessMemory.megabytes(self.after)) "
                + "(+\(ProcessMemory.megabytes(self.growth))); healthy client \(self.healthy)"
        }
    }

    /// Opens `count` clients that each send `each` (an incomplete request) and then nothing more,
    /// waits until Slotgate holds `buffered` bytes for each of them (`qbuf` in `CLIENT LIST`),
    /// measures resident memory, runs `whileHeld` with the clients, and closes them, all while a
    /// healthy client runs beside them.
    static func holdIncompleteRequests(
        _ proxy: ProxyUnderTest,
        count: Int,
        each: [UInt8],
        buffered: Int,
        whileHeld: ([RawClient]) throws -> Void = { _ in },
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> HeldRequestsReport {
        let healthy = try HealthyClient.start(port: proxy.port, key: "abuse:healthy:held")
        let observer = try proxy.connect()
        let before = ProcessMemory.resident
        var held: [RawClient] = []
        for _ in 0..<count {
            let client = try RawClient(port: proxy.port)
            try client.send(each)
            held.append(client)
        }
        var holding = 0
        for _ in 0..<200 where holding < count {
            try await Task.sleep(for: .milliseconds(50))
            let list = try #require(try observer.command(["CLIENT", "LIST"]).string)
            holding = list.split(whereSeparator: \.isNewline).filter { $0.contains(" qbuf=\(buffered) ") }.count
        }
        let after = ProcessMemory.resident
        #expect(holding == count, "clients holding \(buffered) unparsed bytes", sourceLocation: sourceLocation)
        try whileHeld(held)
        held.removeAll()
        let report = try healthy.finish()
        report.expectUnaffected(sourceLocation: sourceLocation)
        try Self.expectServes(proxy, sourceLocation: sourceLocation)
        return HeldRequestsReport(before: before, after: after, healthy: report)
    }

    /// A new client gets right answers from `proxy`.
    static func expectServes(_ proxy: ProxyUnderTest, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let client = try proxy.connect()
        #expect(try client.command(["SET", "abuse:after", "fine"]) == .simpleString("OK"), sourceLocation: sourceLocation)
        #expect(try client.command(["GET", "abuse:after"]).string == "fine", sourceLocation: sourceLocation)
    }

    /// `connected_clients` from `INFO clients` through the proxy.
    static func connectedClients(_ connection: BlockingRedisConnection) throws -> Int {
        let info = try #require(try connection.command(["INFO", "clients"]).string)
        return try #require(LocalCluster.field("connected_clients", in: info).flatMap { Int($0) })
    }

    /// Waits (at most 10 s) until `connected_clients` is at most `limit`; returns the last count.
    static func waitForConnectedClients(_ connection: BlockingRedisConnection, atMost limit: Int) async throws -> Int {
        var clients = try Self.connectedClients(connection)
        for _ in 0..<200 where clients > limit {
            try await Task.sleep(for: .milliseconds(50))
            clients = try Self.connectedClients(connection)
        }
        return clients
    }

    /// Raises this process's soft limit on open descriptors to `needed` when it is lower and the
    /// hard limit allows it.
    static func ensureDescriptors(_ needed: Int) throws {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { throw HarnessError("getrlimit failed") }
        guard limit.rlim_cur < rlim_t(needed) else { return }
        guard limit.rlim_max >= rlim_t(needed) else { throw HarnessError("RLIMIT_NOFILE hard limit \(limit.rlim_max) < \(needed)") }
        limit.rlim_cur = rlim_t(needed)
        guard setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { throw HarnessError("setrlimit failed") }
    }

    /// Bytes as readable text: CR, LF and NUL escaped, long runs cut.
    static func escaped(_ bytes: [UInt8]) -> String {
        let text = bytes.prefix(160).map { byte -> String in
            switch byte {
            case UInt8(ascii: "\r"): return "\\r"
            case UInt8(ascii: "\n"): return "\\n"
            case 0x20..<0x7F: return String(UnicodeScalar(byte))
            default: return String(format: "\\x%02x", byte)
            }
        }.joined()
        return "\"" + text + (bytes.count > 160 ? "…\" (\(bytes.count) bytes)" : "\"")
    }
}

extension RawClient {
    /// Sends `bytes` (the peer may close before it has read them all) and returns what comes back
    /// until the peer closes or goes quiet for 500 ms once `expected` bytes are in.
    func receiveAfterSending(_ bytes: [UInt8], atLeast expected: Int = 0) -> (bytes: [UInt8], closed: Bool) {
        try? self.send(bytes)
        return self.receiveUntilQuiet(.milliseconds(500), atLeast: expected)
    }
}

/// One malformed request, named for the test report.
struct MalformedRequest: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]

    init(_ name: String, _ text: String) {
        self.name = name
        self.bytes = Array(text.utf8)
    }

    var testDescription: String { self.name }

    static let all: [MalformedRequest] = [
        // A first byte other than `*`: Redis reads an inline command.
        MalformedRequest("unknown type byte %", "%1\r\nPING\r\n"),
        MalformedRequest("unknown type byte :", ":1\r\n"),
        MalformedRequest("a bulk string outside a multibulk", "$4\r\nPING\r\n"),
        // The multibulk count.
        MalformedRequest("non-numeric multibulk count", "*x1\r\n$4\r\nPING\r\n"),
        MalformedRequest("empty multibulk count", "*\r\n"),
        MalformedRequest("negative multibulk count", "*-5\r\nPING\r\n"),
        MalformedRequest("multibulk count -0", "*-0\r\n"),
        MalformedRequest("multibulk count past Int64", "*99999999999999999999\r\n"),
        MalformedRequest("multibulk count past Int32", "*2147483648\r\n"),
        MalformedRequest("multibulk count with a leading zero", "*01\r\n$4\r\nPING\r\n"),
        MalformedRequest("multibulk count with a plus sign", "*+1\r\n$4\r\nPING\r\n"),
        MalformedRequest("70,000-digit multibulk count", "*" + String(repeating: "1", count: 70_000)),
        // The bulk length.
        MalformedRequest("non-numeric bulk length", "*1\r\n$4x\r\nPING\r\n"),
        MalformedRequest("empty bulk length", "*1\r\n$\r\nPING\r\n"),
        MalformedRequest("bulk length -1", "*1\r\n$-1\r\n"),
        MalformedRequest("negative bulk length", "*2\r\n$4\r\nECHO\r\n$-5\r\nhello\r\n"),
        MalformedRequest("bulk length past Int64", "*1\r\n$99999999999999999999\r\n"),
        MalformedRequest("bulk length with a leading zero", "*1\r\n$04\r\nPING\r\n"),
        MalformedRequest("70,000-digit bulk length", "*1\r\n$" + String(repeating: "1", count: 70_000)),
        // What follows a bulk, and bulks that are not as long as declared.
        MalformedRequest("two other bytes instead of CRLF after a bulk", "*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n"),
        MalformedRequest("no CRLF after a bulk", "*1\r\n$4\r\nPING*1\r\n$4\r\nPING\r\n"),
        MalformedRequest("bulk longer than declared", "*1\r\n$3\r\nPING\r\n"),
        MalformedRequest("bulk shorter than declared", "*1\r\n$5\r\nPING\r\nPING\r\n"),
        // Inline commands.
        MalformedRequest("100,000 bare CRLFs, then PING", String(repeating: "\r\n", count: 100_000) + "PING\r\n"),
        MalformedRequest("10,000 bare LFs, then PING", String(repeating: "\n", count: 10_000) + "PING\r\n"),
        MalformedRequest("70,000 CRs and no line end", String(repeating: "\r", count: 70_000)),
        // Elements that are not bulk strings.
        MalformedRequest("an integer as an element", "*2\r\n$4\r\nECHO\r\n:5\r\n"),
        MalformedRequest("a simple string as an element", "*2\r\n$4\r\nECHO\r\n+hello\r\n"),
        MalformedRequest("a nested multibulk first", "*2\r\n*1\r\n$4\r\nPING\r\n"),
        MalformedRequest("a nested multibulk after the name", "*2\r\n$4\r\nECHO\r\n*1\r\n$1\r\nx\r\n"),
    ]
}

/// The resident memory of this process, which runs the proxy under test (`/proc/self/status`).
enum ProcessMemory {
    /// `VmRSS`, in bytes.
    static var resident: Int { self.field("VmRSS") }
    /// `VmHWM`, the largest resident size since the start or ``resetPeak()``, in bytes.
    static var peak: Int { self.field("VmHWM") }

    /// Sets `VmHWM` back to the current resident size (`/proc/self/clear_refs`); `false` when the
    /// kernel does not allow it.
    static func resetPeak() -> Bool {
        (try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)) != nil
    }

    static func megabytes(_ bytes: Int) -> String {
        String(format: "%.1f MB", Double(bytes) / 1_048_576)
    }

    private static func field(_ name: String) -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(whereSeparator: \.isNewline).first { $0.hasPrefix(name + ":") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }
}

/// A well-behaved client beside the abuse: a thread of its own runs `SET`, `GET` and `PING` through
/// the proxy, checks every reply and times it, until ``finish()`` (at most 120 s or 100,000 rounds).
final class HealthyClient: @unchecked Sendable {
    struct Report: CustomStringConvertible {
        var rounds = 0
        var latencies: [Duration] = []
        var failures: [String] = []

        var slowest: Duration { self.latencies.max() ?? .zero }

        var description: String {
            let sorted = self.latencies.sorted()
            func percentile(_ fraction: Double) -> String {
                guard !sorted.isEmpty else { return "-" }
                return "\(sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))])"
            }
            return "\(self.rounds) rounds, \(self.latencies.count) replies (p50 \(percentile(0.5)), p99 \(percentile(0.99)), "
                + "slowest \(self.slowest)), \(self.failures.count) wrong"
        }

        /// Every reply was right and came within `slowest`; the client ran rounds before and after.
        func expectUnaffected(slowest limit: Duration = .seconds(2), sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(self.failures.isEmpty, "\(self.failures.prefix(5))", sourceLocation: sourceLocation)
            #expect(self.rounds >= 2, "\(self)", sourceLocation: sourceLocation)
            #expect(self.slowest < limit, "\(self)", sourceLocation: sourceLocation)
        }
    }

    private let condition = NSCondition()
    private var stopping = false
    private var rounds = 0
    private var report: Report?

    private init() {}

    /// Starts the client and returns once it has had its first round answered.
    static func start(port: Int, key: String) throws -> HealthyClient {
        let client = HealthyClient()
        let thread = Thread { client.run(port: port, key: key) }
        thread.start()
        try client.wait(for: "first round") { $0.rounds > 0 || $0.report != nil }
        return client
    }

    /// Lets the client run one more whole round, which starts after the abuse, then stops it and
    /// returns what it saw.
    func finish() throws -> Report {
        let roundsSoFar = self.condition.withLock { self.rounds }
        try self.wait(for: "round after the abuse") { $0.rounds > roundsSoFar + 1 || $0.report != nil }
        self.condition.withLock {
            self.stopping = true
            self.condition.broadcast()
        }
        try self.wait(for: "last round") { $0.report != nil }
        return self.condition.withLock { self.report! }
    }

    private func wait(for what: String, until done: (HealthyClient) -> Bool) throws {
        let deadline = Date(timeIntervalSinceNow: 60)
        try self.condition.withLock {
            while !done(self) {
                guard self.condition.wait(until: deadline) else { throw HarnessError("healthy client: no \(what) within 60 s") }
            }
        }
    }

    private func run(port: Int, key: String) {
        var report = Report()
        defer {
            self.condition.withLock {
                self.report = report
                self.condition.broadcast()
            }
        }
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(120)
        let connection: BlockingRedisConnection
        do {
            connection = try BlockingRedisConnection(host: "127.0.0.1", port: port, timeout: .seconds(10))
        } catch {
            report.failures.append("connect: \(error)")
            return
        }
        while report.rounds < 100_000 && clock.now < deadline && !self.condition.withLock({ self.stopping }) {
            let value = "v\(report.rounds)"
            let steps: [([String], RESPValue)] = [
                (["SET", key, value], .simpleString("OK")), (["GET", key], .bulkString(Array(value.utf8))), (["PING"], .simpleString("PONG")),
            ]
            for (command, expected) in steps {
                let started = clock.now
                let reply: RESPValue
                do {
                    reply = try connection.command(command)
                } catch {
                    report.failures.append("\(command[0]): \(error)")
                    return
                }
                report.latencies.append(clock.now - started)
                if reply != expected { report.failures.append("\(command[0]) got \(reply)") }
            }
            report.rounds += 1
            self.condition.withLock {
                self.rounds = report.rounds
                self.condition.broadcast()
            }
            Thread.sleep(forTimeInterval: 0.005)
        }
    }
}
