//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import SlotgateCluster
import SlotgateRESP
import Testing

extension LiveClusterSuite {
    /// `WAIT` through Slotgate covers the client's own writes on every master it wrote to, as it
    /// would on one server (see `ClientSession+Wait`).
    @Suite struct ReplicationWaitTests {
        /// A key served by each master, in the order of the map's shards.
        private static func keyPerMaster(_ map: SlotMap, prefix: String) -> [(master: NodeAddress, key: String)] {
            map.shards.map { shard in
                let tag = LiveClusterSuite.TopologyChangeTests.tags(prefix, count: 1, servedBy: shard.master, in: map)[0]
                return (shard.master, "{\(tag)}:value")
            }
        }

        /// Writes to every master reach their one replica each: `WAIT 1` counts 1, `WAIT 2` (more
        /// replicas than any master has) counts 1 after its timeout, the least among the masters.
        /// A client that wrote nothing gets a count at once. Slotgate's own marks leave no key.
        @Test func waitCountsTheReplicasOfEveryMasterWrittenTo() throws {
            let (cluster, proxy) = try liveCluster()
            let map = try cluster.slotMap()
            let client = try proxy.connect()
            for (_, key) in Self.keyPerMaster(map, prefix: "wait:all:") {
                #expect(try client.command(["SET", key, "1"]) == .simpleString("OK"))
            }
            #expect(try client.command(["WAIT", "1", "5000"]) == .integer(1))
            for (_, key) in Self.keyPerMaster(map, prefix: "wait:all:") {
                #expect(try client.command(["INCR", key]) == .integer(2))
            }
            #expect(try client.command(["WAIT", "2", "200"]) == .integer(1))
            #expect(try proxy.connect().command(["WAIT", "0", "0"]).int != nil)
            for master in map.shards.map(\.master) {
                let keys = try cluster.connect(master).command(["KEYS", "__slotgate_wait__*"]).array ?? []
                #expect(keys.isEmpty, "\(master): \(keys)")
            }
        }

        /// With the replica of a written key's master stopped, `WAIT 1 300` answers 0 after its
        /// timeout for every client, whichever of the proxy's two loops it is on, while a client that wrote only to
        /// another master gets 1; and a `WAIT` holds up no other client's commands.
        @Test func waitAnswersZeroWhileTheWrittenMastersReplicaIsStopped() async throws {
            let (cluster, proxy) = try liveCluster()
            let map = try cluster.slotMap()
            let keys = Self.keyPerMaster(map, prefix: "wait:stopped:")
            let (stoppedMaster, stoppedKey) = keys[0]
            let (otherMaster, otherKey) = keys[1]
            let replica = try #require(try cluster.replicas(of: stoppedMaster).first)
            #expect(!(try cluster.replicas(of: otherMaster).contains(replica)))
            let clients = try (0..<4).map { _ in try proxy.connect() }
            let other = try proxy.connect()
            let bystander = try proxy.connect()
            try cluster.suspend(replica)
            defer { try? cluster.resume(replica) }
            var counts: [RESPValue] = []
            for client in clients {
                #expect(try client.command(["SET", stoppedKey, "1"]) == .simpleString("OK"))
                counts.append(try client.command(["WAIT", "1", "300"]))
            }
            #expect(counts == Array(repeating: .integer(0), count: clients.count), "\(counts)")
            #expect(try other.command(["SET", otherKey, "1"]) == .simpleString("OK"))
            #expect(try other.command(["WAIT", "1", "5000"]) == .integer(1))
            // A WAIT that runs to its 1.5 s timeout, and meanwhile another client's commands on the
            // shared links: they are answered before the WAIT is. (The replica stays stopped for
            // less than the cluster's 5 s node timeout, so no node marks it failing.)
            let waiter = clients[0]
            try waiter.append(["SET", stoppedKey, "2"])
            try waiter.append(["WAIT", "1", "1500"])
            try waiter.flush()
            let started = ContinuousClock.now
            for _ in 0..<20 {
                #expect(try bystander.command(["GET", stoppedKey]).string != nil)
            }
            let bystanderTook = ContinuousClock.now - started
            #expect(try waiter.readReply() == .simpleString("OK"))
            #expect(try waiter.readReply() == .integer(0))
            let waitTook = ContinuousClock.now - started
            #expect(bystanderTook < waitTook, "bystander \(bystanderTook), WAIT \(waitTook)")
            print("WAIT with the replica stopped: \(clients.count) clients got 0; the bystander's 20 GETs took \(bystanderTook), the WAIT \(waitTook)")
        }
    }
}
