//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateConfiguration
import SlotgateProxy
import Testing

/// A suite trait that gives the suite one real cluster and one proxy in front of it, started
/// before its first test and stopped (nodes killed by PID) after its last.
struct WithLiveCluster: SuiteTrait, TestScoping {
    /// The cluster and proxy of the suite running now.
    @TaskLocal static var current: (cluster: LocalCluster, proxy: ProxyUnderTest)?

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let cluster = try LocalCluster.start()
        do {
            let proxy = try await ProxyUnderTest.start(seeds: [cluster.nodes[0], cluster.nodes[1]])
            try await Self.$current.withValue((cluster, proxy)) {
                try await function()
            }
            try await proxy.stop()
        } catch {
            cluster.stop()
            throw error
        }
        cluster.stop()
    }
}

extension Trait where Self == WithLiveCluster {
    /// Runs the suite against a live 6-node cluster behind a Slotgate proxy.
    static var liveCluster: WithLiveCluster { WithLiveCluster() }
}

/// The suite's live cluster and proxy; only valid inside a suite marked `.liveCluster`.
func liveCluster() throws -> (cluster: LocalCluster, proxy: ProxyUnderTest) {
    try #require(WithLiveCluster.current, "the suite must be marked .liveCluster")
}

/// Runs `body` with a proxy of its own in front of the suite's live cluster, configured by
/// `configure`, and stops the proxy afterwards.
func withOwnProxy(_ configure: (inout ProxyConfiguration) -> Void, _ body: (ProxyUnderTest) async throws -> Void) async throws {
    let (cluster, _) = try liveCluster()
    try await ProxyUnderTest.run(seeds: [cluster.nodes[0]], configure: configure, body)
}
