//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateCluster
import SlotgateConfiguration
import SlotgateProxy
import SlotgateRESP
import Testing

/// A cluster that requires a password: Slotgate authenticates every node link (shared and
/// exclusive) and the topology monitor with `cluster-password`. Its own cluster, because setting
/// a password on the nodes would lock out the shared suite's proxy.
@Suite struct NodeAuthTests {
    @Test func everyNodeLinkAuthenticatesWithTheClusterPassword() async throws {
        let cluster = try LocalCluster.start()
        defer { cluster.stop() }
        try cluster.requirePassword("node-pass")
        let proxy = try await ProxyUnderTest.start(seeds: [cluster.nodes[0]]) { $0.clusterPassword = "node-pass" }
        do {
            let client = try proxy.connect()
            #expect(try client.command(["MSET", "auth:a", "1", "auth:b", "2", "auth:c", "3"]) == .simpleString("OK"))
            #expect(try client.command(["MGET", "auth:a", "auth:b", "auth:c"]).array?.map(\.string) == ["1", "2", "3"])
            #expect(try client.command(["MULTI"]) == .simpleString("OK"))
            #expect(try client.command(["INCR", "{auth}:n"]) == .simpleString("QUEUED"))
            #expect(try client.command(["EXEC"]) == .array([.integer(1)]))
            #expect(try client.command(["BLPOP", "{auth}:empty", "0.1"]) == .null)
        } catch {
            try await proxy.stop()
            throw error
        }
        try await proxy.stop()

        // Without the password the proxy cannot even read the topology, and says so.
        let locked = try await ProxyUnderTest.start(seeds: [cluster.nodes[0]], waitForSlotMap: false)
        let client = try locked.connect()
        var reply = try client.command(["GET", "k"])
        for _ in 0..<100 where !(reply.string ?? "").contains("AUTH") && !(reply.string ?? "").contains("NOAUTH") {
            try await Task.sleep(for: .milliseconds(50))
            reply = try client.command(["GET", "k"])
        }
        #expect(reply.string?.hasPrefix("CLUSTERDOWN") == true, "\(reply)")
        try await locked.stop()
    }
}
