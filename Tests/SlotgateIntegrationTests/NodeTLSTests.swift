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
    /// A cluster whose nodes speak only TLS (Redis's `tls-port`, `tls-cluster yes`, client
    /// certificates required), reached with `cluster-tls yes`: the topology monitor and every
    /// node link speak TLS, and plain clients of Slotgate see one ordinary server.
    @Suite struct NodeTLSTests {
        @Test func aClusterThatSpeaksOnlyTLSIsServedThroughSlotgate() async throws {
            let certificates = try TestCertificates.make()
            defer { certificates.remove() }
            let cluster = try LocalCluster.start(tlsDirectory: certificates.directory)
            defer { cluster.stop() }
            let settings = NodeTLSSettings(
                enabled: true,
                certificateFile: certificates.path("client.crt"),
                keyFile: certificates.path("client.key"),
                caCertificateFile: certificates.path("ca.crt")
            )
            try await ProxyUnderTest.run(seeds: [cluster.nodes[0]], configure: { $0.clusterTLS = settings }) { proxy in
                let client = try proxy.connect()
                let keys = (0..<50).map { "tls-node:\($0)" }
                for key in keys {
                    #expect(try client.command(["SET", key, "v-" + key]) == .simpleString("OK"))
                }
                #expect(try client.command(["MGET"] + keys) == .array(keys.map { .bulkString(Array("v-\($0)".utf8)) }))
                #expect(try client.command(["DBSIZE"]).int ?? 0 >= keys.count)
                #expect(try client.command(["MULTI"]) == .simpleString("OK"))
                #expect(try client.command(["INCR", "{tls-node}:n"]) == .simpleString("QUEUED"))
                #expect(try client.command(["EXEC"]) == .array([.integer(1)]))

                // The nodes themselves hold the keys (the master answers; the others redirect), and
                // take no plain connection.
                let answers = try cluster.nodes.map { node in
                    try TestCertificates.shell(
                        "timeout 20 redis-cli -p $1 --tls --cacert \"$2\" --cert \"$3\" --key \"$4\" GET tls-node:7 </dev/null 2>&1",
                        [String(node.port), certificates.path("ca.crt"), certificates.path("client.crt"), certificates.path("client.key")]
                    ).output
                }
                #expect(answers.filter { $0 == "v-tls-node:7\n" }.count == 1, "\(answers)")
                #expect(answers.filter { $0.hasPrefix("MOVED") }.count == 5, "\(answers)")
                let plain = try TestCertificates.shell("timeout 20 redis-cli -p $1 PING </dev/null 2>&1", [String(cluster.nodes[0].port)])
                #expect(!plain.output.contains("PONG"), "\(plain)")
            }
        }
    }
}
