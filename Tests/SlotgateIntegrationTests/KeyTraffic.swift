//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import SlotgateCluster
import SlotgateRESP

/// Client threads, each with its own connection to the proxy and its own keys (all served by one
/// master), going round them without pause: `SET` the round number, `GET` it back (it must be the
/// value just set), `INCR` a counter; or, `readOnly`, only `GET`s of keys whose value is their name.
/// Error replies are failures; a read of another value is a stale read.
final class KeyTraffic: @unchecked Sendable {
    /// One client thread: its hash tags (keys `{tag}:v`, `{tag}:n`) and the master serving them.
    struct Worker: Sendable {
        let master: NodeAddress
        let tags: [String]
    }

    /// An error reply (or a dead connection) a client got.
    struct Failure: CustomStringConvertible {
        let master: NodeAddress
        let command: String
        let reply: String
        var description: String { "\(self.command) via master \(self.master): \(self.reply)" }
    }

    private let port: Int
    private let workers: [Worker]
    /// How many client threads run.
    var clientCount: Int { self.workers.count }
    private let readOnly: Bool
    private let condition = NSCondition()
    private var stopRequested = false
    private var running = 0
    private var failureList: [Failure] = []
    private var staleList: [(master: NodeAddress, text: String)] = []
    private var counts: [Int]
    private var longest: [Duration]
    private var longestStart: [ContinuousClock.Instant?]
    private var acknowledged: [String: (master: NodeAddress, value: Int)] = [:]

    init(port: Int, workers: [Worker], readOnly: Bool = false) {
        self.port = port
        self.workers = workers
        self.readOnly = readOnly
        self.counts = Array(repeating: 0, count: workers.count)
        self.longest = Array(repeating: .zero, count: workers.count)
        self.longestStart = Array(repeating: nil, count: workers.count)
    }

    func start() {
        for index in self.workers.indices {
            self.condition.withLock { self.running += 1 }
            Thread { self.run(index) }.start()
        }
    }

    /// Asks every thread to stop and waits (at most 60 s) until they have; safe to call again.
    func stop() {
        let deadline = Date(timeIntervalSinceNow: 60)
        self.condition.withLock {
            self.stopRequested = true
            while self.running > 0 {
                guard self.condition.wait(until: deadline) else { return }
            }
        }
    }

    var failures: [Failure] { self.condition.withLock { self.failureList } }

    var staleReads: [String] { self.condition.withLock { self.staleList.map(\.text) } }

    func staleReads(_ master: (NodeAddress) -> Bool) -> [String] {
        self.condition.withLock { self.staleList.filter { master($0.master) }.map(\.text) }
    }

    /// Commands answered so far by the threads whose master passes `master`.
    func operations(_ master: (NodeAddress) -> Bool) -> Int {
        self.condition.withLock { self.workers.indices.filter { master(self.workers[$0].master) }.reduce(0) { $0 + self.counts[$1] } }
    }

    /// The longest any one command took, among the threads whose master passes `master`.
    func longestWait(_ master: (NodeAddress) -> Bool) -> Duration {
        self.condition.withLock { self.workers.indices.filter { master(self.workers[$0].master) }.map { self.longest[$0] }.max() ?? .zero }
    }

    /// When the longest command among the threads whose master passes `master` was sent.
    func longestWaitStart(_ master: (NodeAddress) -> Bool) -> ContinuousClock.Instant? {
        self.condition.withLock {
            self.workers.indices.filter { master(self.workers[$0].master) }.max { self.longest[$0] < self.longest[$1] }.flatMap {
                self.longestStart[$0]
            }
        }
    }

    /// Forgets the longest waits seen so far, to measure only what follows.
    func resetLongestWaits() {
        self.condition.withLock {
            self.longest = self.longest.map { _ in .zero }
            self.longestStart = self.longestStart.map { _ in nil }
        }
    }

    /// Each written key, its master and the last value a SET of it was acknowledged with.
    var acknowledgedValues: [String: (master: NodeAddress, value: Int)] { self.condition.withLock { self.acknowledged } }

    /// Waits (at most 30 s) until the threads have had `target` replies in all.
    func waitForOperations(atLeast target: Int) throws {
        let deadline = Date(timeIntervalSinceNow: 30)
        try self.condition.withLock {
            while self.counts.reduce(0, +) < target {
                guard self.running > 0 else { throw HarnessError("traffic stopped: \(self.failureList.prefix(3))") }
                guard self.condition.wait(until: deadline) else {
                    throw HarnessError("traffic made \(self.counts.reduce(0, +)) of \(target) commands in 30 s")
                }
            }
        }
    }

    private var isStopping: Bool { self.condition.withLock { self.stopRequested } }

    private func run(_ index: Int) {
        defer {
            self.condition.withLock {
                self.running -= 1
                self.condition.broadcast()
            }
        }
        let worker = self.workers[index]
        let clock = ContinuousClock()
        do {
            let client = try BlockingRedisConnection(host: "127.0.0.1", port: self.port, timeout: .seconds(30))
            func send(_ command: [String]) throws -> RESPValue {
                let start = clock.now
                let reply = try client.command(command)
                let took = clock.now - start
                self.condition.withLock {
                    self.counts[index] += 1
                    if took > self.longest[index] {
                        self.longest[index] = took
                        self.longestStart[index] = start
                    }
                    if case .error(let message) = reply {
                        self.failureList.append(Failure(master: worker.master, command: command.joined(separator: " "), reply: message))
                    }
                    self.condition.broadcast()
                }
                return reply
            }
            var round = 0
            while !self.isStopping && round < 10_000_000 {
                round += 1
                for tag in worker.tags {
                    let key = "{\(tag)}:v"
                    if self.readOnly {
                        let reply = try send(["GET", key])
                        if !reply.isError, reply != .bulkString(Array(key.utf8)) { self.stale(worker.master, "GET \(key): \(reply)") }
                        continue
                    }
                    let set = try send(["SET", key, String(round)])
                    if set == .simpleString("OK") { self.condition.withLock { self.acknowledged[key] = (worker.master, round) } }
                    let get = try send(["GET", key])
                    if set == .simpleString("OK"), !get.isError, get != .bulkString(Array(String(round).utf8)) {
                        self.stale(worker.master, "GET \(key) after SET \(round): \(get)")
                    }
                    _ = try send(["INCR", "{\(tag)}:n"])
                }
            }
        } catch {
            self.condition.withLock { self.failureList.append(Failure(master: worker.master, command: "connection", reply: "\(error)")) }
        }
    }

    private func stale(_ master: NodeAddress, _ text: String) {
        self.condition.withLock { self.staleList.append((master, text)) }
    }
}

extension RESPValue {
    /// Whether this is an error reply.
    fileprivate var isError: Bool {
        if case .error = self { return true }
        return false
    }
}
