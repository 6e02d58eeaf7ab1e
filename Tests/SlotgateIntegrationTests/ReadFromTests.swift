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
    /// `read-from prefer-replica` and `nearest` on the shared cluster: reads are answered right,
    /// by the nodes the policy names, and writes still go to the masters.
    @Suite struct ReadFromTests {
        /// Under `prefer-replica`, once the monitor has measured the replicas, they serve the
        /// reads; under `nearest`, every read is answered by some node of its shard. Either way
        /// every value is the one written, and the masters take every write.
        @Test(arguments: [ReadPolicy.preferReplica, .nearest])
        func readsFollowThePolicy(_ policy: ReadPolicy) async throws {
            let (cluster, _) = try liveCluster()
            try await withOwnProxy({
                $0.readPolicy = policy
                $0.topologyRefreshInterval = .seconds(1)
            }) { try await Self.check(policy, cluster: cluster, proxy: $0) }
        }

        private static func check(_ policy: ReadPolicy, cluster: LocalCluster, proxy: ProxyUnderTest) async throws {
            let map = try cluster.slotMap()
            let masters = map.shards.map(\.master)
            let replicas = try masters.flatMap { try cluster.replicas(of: $0) }
            let keys = (0..<60).map { "read-from:\(policy.rawValue):\($0)" }
            let client = try proxy.connect()
            let setsBefore = try masters.map {
                try TopologyChangeTests.calls("set", in: cluster.connect($0).command(["INFO", "commandstats"]).string ?? "")
            }
            for key in keys { try client.append(["SET", key, key]) }
            for key in keys { #expect(try client.readReply() == .simpleString("OK")) }
            let setsAfter = try masters.map {
                try TopologyChangeTests.calls("set", in: cluster.connect($0).command(["INFO", "commandstats"]).string ?? "")
            }
            #expect(zip(setsBefore, setsAfter).map { $1 - $0 }.reduce(0, +) >= keys.count, "the masters took every write")
            for master in masters {
                #expect(try cluster.connect(master).command(["WAIT", "1", "5000"]) == .integer(1))
            }

            // Wait (bounded) for the measured view: the monitor refreshes once a second.
            let clock = ContinuousClock()
            let start = clock.now
            var replicaShare = 0.0
            var wrong: [String] = []
            repeat {
                let nodes = masters + replicas
                let before = try TopologyChangeTests.getCalls(cluster, nodes)
                for key in keys { try client.append(["GET", key]) }
                for key in keys {
                    let reply = try client.readReply()
                    if reply != .bulkString(Array(key.utf8)) { wrong.append("GET \(key): \(reply)") }
                }
                let served = zip(before, try TopologyChangeTests.getCalls(cluster, nodes)).map { $1 - $0 }
                #expect(served.reduce(0, +) >= keys.count, "every read reached a node")
                replicaShare = Double(served.suffix(replicas.count).reduce(0, +)) / Double(keys.count)
                if policy == .preferReplica && replicaShare < 1 { try await Task.sleep(for: .milliseconds(200)) }
            } while policy == .preferReplica && replicaShare < 1 && clock.now - start < .seconds(15)
            print("ReadFrom \(policy.rawValue): replicas served \(Int(replicaShare * 100))% of \(keys.count) reads after \(clock.now - start)")
            #expect(wrong.isEmpty, "\(wrong.prefix(5))")
            if policy == .preferReplica {
                #expect(replicaShare >= 1)
            }
        }
    }
}
