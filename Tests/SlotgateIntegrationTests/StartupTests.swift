//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateCluster
import SlotgateRESP
import Testing

/// Starting while the cluster is unreachable: the proxy stays up and says why it can't serve.
@Suite struct StartupTests {
    @Test func seedsDownAnswersClusterDownWithReason() async throws {
        let deadPort = try FreePorts.findBase(count: 1, busOffset: 0)
        let proxy = try await ProxyUnderTest.start(seeds: [NodeAddress(host: "127.0.0.1", port: deadPort)], waitForSlotMap: false)
        let client = try proxy.connect()
        // The first answers may come before the first discovery attempt has failed.
        var reply = try client.command(["GET", "anything"])
        for _ in 0..<100 where !(reply.string ?? "").contains("127.0.0.1:\(deadPort)") {
            try await Task.sleep(for: .milliseconds(50))
            reply = try client.command(["GET", "anything"])
        }
        guard case .error(let message) = reply else {
            Issue.record("expected CLUSTERDOWN, got \(reply)")
            try await proxy.stop()
            return
        }
        #expect(message.hasPrefix("CLUSTERDOWN "))
        #expect(message.contains("127.0.0.1:\(deadPort)"))
        // Connection commands still work, and so does the same connection afterwards.
        #expect(try client.command(["PING"]) == .simpleString("PONG"))
        try await proxy.stop()
    }
}
