//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import SlotgateCluster
import SlotgateRESP

#if canImport(Glibc)
    import Glibc
#endif

/// A real 6-node Redis Cluster (3 masters, 3 replicas) on free loopback ports, made by the same
/// `deploy/local-cluster.sh` that users run, so the tests exercise the script too.
final class LocalCluster: Sendable {
    let basePort: Int
    let directory: String

    /// The repository root, found from this file's path.
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    private init(basePort: Int, directory: String) {
        self.basePort = basePort
        self.directory = directory
    }

    /// Starts a cluster on six free ports (whose bus ports, +10000, are free too).
    /// - Parameters:
    ///   - nodeTimeout: the nodes' `cluster-node-timeout` in milliseconds; `nil` keeps the
    ///     script's default (5000).
    ///   - tlsDirectory: a directory with `ca.crt`, `server.crt` and `server.key`: the nodes then
    ///     speak only TLS (see `local-cluster.sh --tls`), and ``connect(_:)`` cannot reach them.
    static func start(nodeTimeout: Int? = nil, tlsDirectory: String? = nil) throws -> LocalCluster {
        let basePort = try FreePorts.findBase(count: 6, busOffset: 10000)
        let directory = NSTemporaryDirectory() + "slotgate-test-\(basePort)"
        let cluster = LocalCluster(basePort: basePort, directory: directory)
        let options = (nodeTimeout.map { ["--node-timeout", String($0)] } ?? []) + (tlsDirectory.map { ["--tls", $0] } ?? [])
        try cluster.script("start", options)
        return cluster
    }

    /// Stops the nodes this cluster started, by their PIDs, and removes its directory.
    func stop() {
        try? self.script("stop")
    }

    /// All six nodes.
    var nodes: [NodeAddress] {
        (0..<6).map { NodeAddress(host: "127.0.0.1", port: self.basePort + $0) }
    }

    /// A fresh blocking connection straight to a node, bypassing the proxy.
    func connect(_ node: NodeAddress) throws -> BlockingRedisConnection {
        try BlockingRedisConnection(host: node.host, port: node.port, timeout: .seconds(10))
    }

    /// Gives every node's default user `password` (`requirepass`), and the replicas the same
    /// password for their masters (`masterauth`); afterwards only ``connect(_:)``'s own
    /// connections and clients that sign in get in.
    func requirePassword(_ password: String) throws {
        for node in self.nodes {
            let connection = try self.connect(node)
            for parameter in ["masterauth", "requirepass"] {
                let reply = try connection.command(["CONFIG", "SET", parameter, password])
                guard reply == .simpleString("OK") else { throw HarnessError("CONFIG SET \(parameter) on \(node): \(reply)") }
            }
        }
    }

    /// The cluster's own current slot map, read from a node.
    func slotMap() throws -> SlotMap {
        let node = self.nodes[0]
        let reply = try self.connect(node).command(["CLUSTER", "SLOTS"])
        guard let map = SlotMap(clusterSlotsReply: reply, queriedHost: node.host) else {
            throw HarnessError("CLUSTER SLOTS unreadable: \(reply)")
        }
        return map
    }

    /// The node id of a node (`CLUSTER MYID`).
    func nodeID(_ node: NodeAddress) throws -> String {
        guard let id = try self.connect(node).command(["CLUSTER", "MYID"]).string else { throw HarnessError("no node id") }
        return id
    }

    /// Moves `slot` from its master to `target` as `redis-cli --cluster reshard` does: IMPORTING
    /// and MIGRATING, then MIGRATE of its keys in batches, then SETSLOT NODE on every master.
    /// - Parameters:
    ///   - afterEachBatch: runs while the slot is half moved (ASK territory), after each batch.
    ///   - beforeAssigning: runs once every key has moved, before the slot changes owner.
    func moveSlot(_ slot: HashSlot, to target: NodeAddress, afterEachBatch: () throws -> Void = {}, beforeAssigning: () throws -> Void = {})
        throws
    {
        let masters = try self.slotMap().shards.map(\.master)
        guard let source = try self.slotMap().master(for: slot) else { throw HarnessError("slot \(slot) has no owner") }
        let sourceLink = try self.connect(source)
        let targetID = try self.nodeID(target)
        try self.expectOK(self.connect(target).command(["CLUSTER", "SETSLOT", "\(slot)", "IMPORTING", self.nodeID(source)]))
        try self.expectOK(sourceLink.command(["CLUSTER", "SETSLOT", "\(slot)", "MIGRATING", targetID]))
        while true {
            let batch = try sourceLink.command(["CLUSTER", "GETKEYSINSLOT", "\(slot)", "20"]).array ?? []
            if batch.isEmpty { break }
            let names = batch.compactMap(\.string)
            try self.expectOK(sourceLink.command(["MIGRATE", target.host, "\(target.port)", "", "0", "5000", "KEYS"] + names))
            try afterEachBatch()
        }
        try beforeAssigning()
        for master in masters {
            try self.expectOK(self.connect(master).command(["CLUSTER", "SETSLOT", "\(slot)", "NODE", targetID]))
        }
    }

    private func expectOK(_ reply: RESPValue) throws {
        guard reply == .simpleString("OK") else { throw HarnessError("expected OK, got \(reply)") }
    }

    private func script(_ action: String, _ options: [String] = []) throws {
        let logPath = NSTemporaryDirectory() + "slotgate-test-\(self.basePort)-\(action).log"
        let (status, output) = try ScriptRunner.run(
            Self.repositoryRoot + "/deploy/local-cluster.sh",
            [action, "--base-port", String(self.basePort), "--dir", self.directory] + options,
            logPath: logPath
        )
        guard status == 0 else {
            throw HarnessError("local-cluster.sh \(action) failed (\(status)); log kept at \(logPath): \(output)")
        }
        try? FileManager.default.removeItem(atPath: logPath)
    }
}

/// A test harness step failed; the message says which and why.
struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Crashes, stalls, restarts and new nodes, for the tests that change a cluster's topology. Each
/// acts only on processes this cluster started: a PID is taken from the node's own pidfile and used
/// only while that process is a `redis-server` running in the node's own directory.
extension LocalCluster {
    /// The directory of a node: its `redis.conf`, `nodes-PORT.conf`, pidfile and log.
    func nodeDirectory(_ node: NodeAddress) -> String {
        (self.basePort..<(self.basePort + 6)).contains(node.port) ? self.directory + "/\(node.port)" : self.directory + "-extra-\(node.port)"
    }

    /// The PID of the node's live `redis-server`, or `nil` when it does not run.
    func pid(of node: NodeAddress) -> pid_t? {
        let directory = self.nodeDirectory(node)
        guard let text = Self.readFile(directory + "/redis.pid"), let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)),
            Self.isRunning(pid), Self.readFile("/proc/\(pid)/comm")?.trimmingCharacters(in: .whitespacesAndNewlines) == "redis-server",
            let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd"),
            URL(fileURLWithPath: cwd).resolvingSymlinksInPath().path == URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
        else { return nil }
        return pid
    }

    /// Kills the node with SIGKILL, as a crash would (no goodbye to clients or the cluster bus), and
    /// waits (at most 5 s) until its process is gone.
    func crash(_ node: NodeAddress) throws {
        let pid = try self.requirePID(of: node)
        guard Glibc.kill(pid, SIGKILL) == 0 else { throw HarnessError("kill -9 \(pid) (\(node)) failed: errno \(errno)") }
        for _ in 0..<500 where Self.isRunning(pid) { Thread.sleep(forTimeInterval: 0.01) }
        guard !Self.isRunning(pid) else { throw HarnessError("node \(node) (pid \(pid)) still runs 5 s after SIGKILL") }
    }

    /// The replicas of `master`, as `CLUSTER NODES` on `master` lists them. (`CLUSTER SLOTS` leaves
    /// out a replica until its replication offset is non-zero, i.e. until the master took a write.)
    func replicas(of master: NodeAddress) throws -> [NodeAddress] {
        let link = try self.connect(master)
        guard let myID = try link.command(["CLUSTER", "MYID"]).string, let table = try link.command(["CLUSTER", "NODES"]).string else {
            throw HarnessError("CLUSTER NODES unreadable on \(master)")
        }
        return table.split(whereSeparator: \.isNewline).compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count >= 4, fields[3] == myID, fields[2].split(separator: ",").contains("slave"),
                let address = fields[1].split(separator: "@").first
            else { return nil }
            return NodeAddress(address)
        }
    }

    /// Stops the node's process with SIGSTOP: its sockets stay open, it answers nothing.
    func suspend(_ node: NodeAddress) throws {
        let pid = try self.requirePID(of: node)
        guard Glibc.kill(pid, SIGSTOP) == 0 else { throw HarnessError("kill -STOP \(pid) (\(node)) failed: errno \(errno)") }
    }

    /// Lets a node stopped by ``suspend(_:)`` run again (SIGCONT).
    func resume(_ node: NodeAddress) throws {
        let pid = try self.requirePID(of: node)
        guard Glibc.kill(pid, SIGCONT) == 0 else { throw HarnessError("kill -CONT \(pid) (\(node)) failed: errno \(errno)") }
    }

    /// Starts a crashed node again from its own `redis.conf`, so with its own `nodes-PORT.conf`
    /// (same id, same slots), and waits (at most 10 s) until it answers PING. Nothing is persisted,
    /// so it comes back without keys.
    func restart(_ node: NodeAddress) throws {
        guard self.pid(of: node) == nil else { throw HarnessError("node \(node) still runs") }
        try self.launchRedis(configuration: self.nodeDirectory(node) + "/redis.conf", node: node)
    }

    /// Waits until `node` reports `role` (`master` or `slave`) in `INFO replication`; returns how
    /// long that took.
    @discardableResult
    func waitForRole(_ role: String, of node: NodeAddress, timeout: Duration = .seconds(20)) throws -> Duration {
        var last = ""
        return try Self.poll(every: 0.02, for: timeout, "node \(node) did not become \(role) (role: \(last))") {
            last = (try? self.connect(node).command(["INFO", "replication"]).string).flatMap { Self.field("role", in: $0) } ?? last
            return last == role
        }
    }

    /// Asks `condition` every `interval` seconds until it holds, for at most `timeout`; returns how
    /// long that took, or throws naming what did not happen.
    @discardableResult
    private static func poll(
        every interval: Double,
        for timeout: Duration,
        _ failure: @autoclosure () -> String,
        until condition: () -> Bool
    ) throws -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < timeout {
            if condition() { return clock.now - start }
            Thread.sleep(forTimeInterval: interval)
        }
        throw HarnessError("\(failure()) within \(timeout)")
    }

    /// Waits until `observer` flags `node` as failed (`fail`, agreed by the masters, not `fail?`).
    func waitUntilFailed(_ node: NodeAddress, seenBy observer: NodeAddress, timeout: Duration = .seconds(20)) throws {
        try Self.poll(every: 0.05, for: timeout, "\(observer) did not flag \(node) as failed") {
            let nodes = (try? self.connect(observer).command(["CLUSTER", "NODES"]).string) ?? ""
            let line = nodes.split(whereSeparator: \.isNewline).first { $0.split(separator: " ").dropFirst().first?.hasPrefix("\(node)@") == true }
            let flags = line?.split(separator: " ").dropFirst(2).first?.split(separator: ",") ?? []
            return flags.contains("fail")
        }
    }

    /// Waits until `node` reports `cluster_state:` `state` in `CLUSTER INFO`.
    func waitForClusterState(_ state: String, seenBy node: NodeAddress, timeout: Duration = .seconds(20)) throws {
        try Self.poll(every: 0.05, for: timeout, "\(node) did not report cluster_state:\(state)") {
            (try? self.connect(node).command(["CLUSTER", "INFO"]).string).flatMap { Self.field("cluster_state", in: $0) } == state
        }
    }

    /// Starts a seventh node, not yet in the cluster: an empty cluster-enabled master on a free port
    /// (bus port +10000 free too), configured like the others, in a directory beside the
    /// cluster's. Stop it with ``stopExtraNode(_:)``.
    func startExtraNode() throws -> NodeAddress {
        let node = NodeAddress(host: "127.0.0.1", port: try FreePorts.findBase(count: 1, busOffset: 10000))
        let directory = self.nodeDirectory(node)
        let nodeTimeout = try self.connect(self.nodes[0]).command(["CONFIG", "GET", "cluster-node-timeout"]).array?.last?.string ?? "5000"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let configuration = """
            port \(node.port)
            bind 127.0.0.1
            protected-mode no
            cluster-enabled yes
            cluster-config-file nodes-\(node.port).conf
            cluster-node-timeout \(nodeTimeout)
            dir \(directory)
            daemonize yes
            pidfile \(directory)/redis.pid
            logfile \(directory)/redis.log
            save ""
            appendonly no
            repl-diskless-sync-delay 0

            """
        try configuration.write(toFile: directory + "/redis.conf", atomically: true, encoding: .utf8)
        try self.launchRedis(configuration: directory + "/redis.conf", node: node)
        return node
    }

    /// Kills a node made by ``startExtraNode()`` (if it still runs) and removes its directory.
    func stopExtraNode(_ node: NodeAddress) {
        if let pid = self.pid(of: node) {
            Glibc.kill(pid, SIGKILL)
            for _ in 0..<500 where Self.isRunning(pid) { Thread.sleep(forTimeInterval: 0.01) }
        }
        try? FileManager.default.removeItem(atPath: self.nodeDirectory(node))
    }

    /// Runs `redis-cli` with `arguments` (at most 120 s, stdin closed) and returns its output;
    /// throws when it exits non-zero.
    @discardableResult
    func redisCLI(_ arguments: [String]) throws -> String {
        let logPath = NSTemporaryDirectory() + "slotgate-test-\(self.basePort)-redis-cli.log"
        defer { try? FileManager.default.removeItem(atPath: logPath) }
        let (status, output) = try ScriptRunner.run(
            "-c",
            ["exec timeout 120 redis-cli \"$@\" </dev/null", "redis-cli"] + arguments,
            logPath: logPath
        )
        guard status == 0 else { throw HarnessError("redis-cli \(arguments.joined(separator: " ")) failed (\(status)): \(output)") }
        return output
    }

    /// A `field:value` line's value in an INFO-style text.
    static func field(_ name: String, in info: String) -> String? {
        info.split(whereSeparator: \.isNewline).first { $0.hasPrefix(name + ":") }.map { String($0.dropFirst(name.count + 1)) }
    }

    private func requirePID(of node: NodeAddress) throws -> pid_t {
        guard let pid = self.pid(of: node) else { throw HarnessError("node \(node) does not run") }
        return pid
    }

    /// Starts a daemonizing `redis-server` with every inherited descriptor above 2 closed (the test
    /// process's sockets must not live on in it), then waits (at most 10 s) until it answers PING.
    private func launchRedis(configuration: String, node: NodeAddress) throws {
        let logPath = NSTemporaryDirectory() + "slotgate-test-\(node.port)-launch.log"
        let closeAndStart = """
            for fd in /proc/self/fd/*; do fd=${fd##*/}; if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi; done
            exec redis-server "$1" </dev/null
            """
        let (status, output) = try ScriptRunner.run("-c", [closeAndStart, "launch", configuration], logPath: logPath)
        guard status == 0 else { throw HarnessError("redis-server \(configuration) failed (\(status)): \(output)") }
        try? FileManager.default.removeItem(atPath: logPath)
        for _ in 0..<200 {
            if let link = try? self.connect(node), (try? link.command(["PING"])) == .simpleString("PONG") { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw HarnessError("node \(node) did not answer PING within 10 s of starting")
    }

    private static func isRunning(_ pid: pid_t) -> Bool {
        guard let stat = Self.readFile("/proc/\(pid)/stat"), let end = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: end)...].drop { $0 == " " }.first
        return state != "Z" && state != "X"
    }

    private static func readFile(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    }
}
