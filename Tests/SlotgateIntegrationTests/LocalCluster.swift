//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import SlotgateCluster
import SlotgateRESP

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
    static func start() throws -> LocalCluster {
        let basePort = try FreePorts.findBase(count: 6, busOffset: 10000)
        let directory = NSTemporaryDirectory() + "slotgate-test-\(basePort)"
        let cluster = LocalCluster(basePort: basePort, directory: directory)
        try cluster.script("start")
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

    private func script(_ action: String) throws {
        let logPath = NSTemporaryDirectory() + "slotgate-test-\(self.basePort)-\(action).log"
        let (status, output) = try ScriptRunner.run(
            Self.repositoryRoot + "/deploy/local-cluster.sh",
            [action, "--base-port", String(self.basePort), "--dir", self.directory],
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
