//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Testing

extension LiveClusterSuite {
    /// A client's protocol never matters: redis-py in RESP2 and in RESP3 (its default since 8.0),
    /// and `redis-cli -3`, run the same workload through Slotgate at the same time.
    @Suite struct ProtocolTests {
        @Test func resp2AndResp3ClientsRunTheSameWorkload() throws {
            let (_, proxy) = try liveCluster()
            try ClientWorkload.run("run_protocol_workload.sh", port: proxy.port, summaryPrefix: "OK: redis-py")
        }
    }
}
