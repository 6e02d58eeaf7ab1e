//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import NIOCore
import SlotgateCluster
import SlotgateConfiguration
import SlotgateProxy
import SlotgateRESP
import Testing

/// A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl in a
/// directory of their own, for the TLS tests.
struct TestCertificates {
    let directory: String

    /// Makes the files; `serverName` is the server certificate's common name.
    static func make(serverName: String = "slotgate-test") throws -> TestCertificates {
        let directory = NSTemporaryDirectory() + "slotgate-tls-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let certificates = TestCertificates(directory: directory)
        try certificates.openssl(
            """
            openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj "/CN=Slotgate test CA"
            openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj "/CN=client"
            openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 2
            """
        )
        try certificates.renewServerCertificate(name: serverName)
        return certificates
    }

    /// Writes a new server certificate and key over the old ones, named `name`.
    func renewServerCertificate(name: String) throws {
        try self.openssl(
            """
            openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=\(name)"
            printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > server.ext
            openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile server.ext
            """
        )
    }

    func path(_ name: String) -> String { self.directory + "/" + name }

    /// The TLS settings of a proxy serving these certificates on `port`.
    func settings(port: Int, clientAuthentication: ClientTLSSettings.ClientAuthentication = .yes) -> ClientTLSSettings {
        ClientTLSSettings(
            port: port,
            certificateFile: self.path("server.crt"),
            keyFile: self.path("server.key"),
            caCertificateFile: self.path("ca.crt"),
            clientAuthentication: clientAuthentication
        )
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    private func openssl(_ script: String) throws {
        let (status, output) = try Self.shell("cd \"$1\" && { \(script.replacingOccurrences(of: "\n", with: " && ")); } 2>&1", [self.directory])
        guard status == 0 else { throw HarnessError("openssl failed: \(output)") }
    }

    /// Runs `command` under bash with `arguments` as `$1…`; its exit status and output. Commands
    /// that could wait on the network run under `timeout`.
    static func shell(_ command: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let logPath = NSTemporaryDirectory() + "slotgate-tls-shell-\(UInt32.random(in: 0...UInt32.max)).log"
        defer { try? FileManager.default.removeItem(atPath: logPath) }
        return try ScriptRunner.run("-c", [command, "tls"] + arguments, logPath: logPath)
    }
}

extension LiveClusterSuite {
    /// The TLS client port (`tls-port`): real TLS clients (`redis-cli --tls`, redis-py with
    /// `ssl=True`) reach the cluster through it, mutual TLS keeps out clients without a
    /// certificate the CA signed, and a renewed certificate is served after a reload.
    @Suite struct ClientTLSTests {
        private static func withTLSProxy(
            _ clientAuthentication: ClientTLSSettings.ClientAuthentication,
            plainPort: Bool = true,
            _ body: (ProxyUnderTest, TestCertificates, ProxyConfiguration) async throws -> Void
        ) async throws {
            let certificates = try TestCertificates.make()
            defer { certificates.remove() }
            let tlsPort = try FreePorts.findBase(count: 1, busOffset: 0)
            let plain = try FreePorts.findBase(count: 1, busOffset: 0)
            var started = ProxyConfiguration()
            try await withOwnProxy({
                $0.tls = certificates.settings(port: tlsPort, clientAuthentication: clientAuthentication)
                $0.port = plainPort ? plain : 0
                started = $0
            }) { proxy in
                try await body(proxy, certificates, started)
            }
        }

        /// `redis-cli --tls` with the arguments given, against `port`.
        private static func redisCLI(_ port: Int, _ certificates: TestCertificates, clientCertificate: Bool, _ command: [String]) throws -> (
            status: Int32, output: String
        ) {
            var arguments = ["-p", String(port), "--tls", "--cacert", certificates.path("ca.crt")]
            if clientCertificate {
                arguments += ["--cert", certificates.path("client.crt"), "--key", certificates.path("client.key")]
            }
            return try TestCertificates.shell("timeout 60 redis-cli \"$@\" </dev/null 2>&1", arguments + command)
        }

        @Test func redisCLIWithAClientCertificateReachesTheCluster() async throws {
            try await Self.withTLSProxy(.yes) { proxy, certificates, configuration in
                let tlsPort = configuration.tls.port
                let set = try Self.redisCLI(tlsPort, certificates, clientCertificate: true, ["SET", "{tls}:k", "over-tls"])
                #expect(set.status == 0 && set.output == "OK\n", "\(set)")
                // The plain port serves the same cluster beside it.
                #expect(try proxy.connect().command(["GET", "{tls}:k"]).string == "over-tls")
                let (cluster, _) = try liveCluster()
                let master = try #require(try cluster.slotMap().master(for: HashSlot(key: "{tls}:k")))
                #expect(try cluster.connect(master).command(["GET", "{tls}:k"]).string == "over-tls")
            }
        }

        @Test func mutualTLSRefusesAClientWithoutACertificate() async throws {
            try await Self.withTLSProxy(.yes) { _, certificates, configuration in
                let tlsPort = configuration.tls.port
                let refused = try Self.redisCLI(tlsPort, certificates, clientCertificate: false, ["PING"])
                #expect(!refused.output.contains("PONG"), "\(refused)")
                #expect(refused.output.lowercased().contains("closed") || refused.output.lowercased().contains("error"), "\(refused)")
            }
            try await Self.withTLSProxy(.optional) { _, certificates, configuration in
                let tlsPort = configuration.tls.port
                let withoutCertificate = try Self.redisCLI(tlsPort, certificates, clientCertificate: false, ["PING"])
                let withCertificate = try Self.redisCLI(tlsPort, certificates, clientCertificate: true, ["PING"])
                #expect(withoutCertificate.output == "PONG\n" && withCertificate.output == "PONG\n", "\(withoutCertificate) \(withCertificate)")
            }
        }

        /// `port 0` beside a `tls-port` leaves only the TLS port, as in Redis; redis-py speaks to it
        /// with `ssl=True`, in RESP2 and RESP3.
        @Test func tlsOnlyWithRedisPy() async throws {
            try await Self.withTLSProxy(.yes, plainPort: false) { proxy, certificates, configuration in
                let tlsPort = configuration.tls.port
                #expect(proxy.server.localAddress == nil)
                #expect(proxy.server.tlsLocalAddress?.port == tlsPort)
                let script = """
                    import redis, sys
                    port, directory = int(sys.argv[1]), sys.argv[2]
                    for protocol in (2, 3):
                        client = redis.Redis(port=port, protocol=protocol, ssl=True, ssl_ca_certs=directory + "/ca.crt",
                                             ssl_certfile=directory + "/client.crt", ssl_keyfile=directory + "/client.key")
                        client.set("{tls}:py", protocol)
                        assert client.get("{tls}:py") == str(protocol).encode(), client.get("{tls}:py")
                        assert int(client.client_info()["resp"]) == protocol, client.client_info()
                    print("redis-py over TLS: ok")
                    """
                let run = try ScriptRunner.runPython(script, [String(tlsPort), certificates.directory])
                #expect(run.status == 0 && run.output.contains("redis-py over TLS: ok"), "\(run)")
            }
        }

        /// A reload reads the certificate files again: new clients get the renewed certificate.
        @Test func reloadServesARenewedCertificate() async throws {
            try await Self.withTLSProxy(.optional) { proxy, certificates, configuration in
                let tlsPort = configuration.tls.port
                let subject = {
                    try TestCertificates.shell(
                        "timeout 60 openssl s_client -connect 127.0.0.1:$1 -CAfile \"$2\" </dev/null 2>/dev/null | grep \"^subject=\"",
                        [String(tlsPort), certificates.path("ca.crt")]
                    ).output
                }
                let before = try subject()
                #expect(before.contains("slotgate-test"), "\(before)")
                try certificates.renewServerCertificate(name: "slotgate-renewed")
                #expect(proxy.server.reload(configuration).isEmpty)
                let after = try subject()
                #expect(after.contains("slotgate-renewed"), "\(after)")
            }
        }
    }
}
