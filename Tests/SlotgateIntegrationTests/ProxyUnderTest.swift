//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import Logging
import NIOCore
import SlotgateCluster
import SlotgateConfiguration
import SlotgateProxy
import SlotgateRESP

/// A Slotgate proxy running inside the test process, in front of a test cluster, on a free port.
final class ProxyUnderTest: Sendable {
    let server: ProxyServer
    let port: Int

    /// Starts the proxy and waits (bounded) until it routes commands, i.e. holds a slot map.
    /// `configure` changes the test defaults (port 0, 2 threads, quick topology refreshes, no admin
    /// port: tests that use one pick a free port).
    static func start(
        seeds: [NodeAddress],
        waitForSlotMap: Bool = true,
        configure: (inout ProxyConfiguration) -> Void = { _ in }
    ) async throws -> ProxyUnderTest {
        var logger = Logger(label: "slotgate-test")
        logger.logLevel = .warning
        var configuration = ProxyConfiguration(
            port: 0,
            seeds: seeds,
            threads: 2,
            topologyRefreshInterval: .seconds(5),
            topologyMinimumRefreshInterval: .milliseconds(50),
            adminPort: 0
        )
        configure(&configuration)
        let server = try await ProxyServer.start(configuration: configuration, logger: logger)
        // A proxy with only a TLS port (`port 0` beside `tls-port`) is known by its TLS port.
        guard let port = server.localAddress?.port ?? server.tlsLocalAddress?.port else { throw HarnessError("proxy has no port") }
        let proxy = ProxyUnderTest(server: server, port: port)
        // Nor can it be probed with a command when the nodes decide who may run commands.
        if waitForSlotMap && (server.localAddress == nil || configuration.aclMode == .passthrough) {
            try await proxy.waitForSlotMap()
        } else if waitForSlotMap {
            try proxy.waitUntilRouting(password: configuration.requirePassword)
        }
        return proxy
    }

    /// Starts a proxy as ``start(seeds:waitForSlotMap:configure:)`` does, runs `body` with it, and
    /// stops it afterwards, whether `body` throws or not.
    static func run(
        seeds: [NodeAddress],
        configure: (inout ProxyConfiguration) -> Void = { _ in },
        _ body: (ProxyUnderTest) async throws -> Void
    ) async throws {
        let proxy = try await Self.start(seeds: seeds, configure: configure)
        do {
            try await body(proxy)
        } catch {
            try? await proxy.stop()
            throw error
        }
        try await proxy.stop()
    }

    private init(server: ProxyServer, port: Int) {
        self.server = server
        self.port = port
    }

    /// A new client connection to the proxy.
    func connect() throws -> BlockingRedisConnection {
        try BlockingRedisConnection(host: "127.0.0.1", port: self.port, timeout: .seconds(30))
    }

    func stop() async throws {
        try await self.server.shutdown()
    }

    /// Waits (bounded) until the proxy holds a slot map, without a client connection.
    private func waitForSlotMap() async throws {
        for _ in 0..<200 {
            if await self.server.status() != nil { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError("proxy did not load a slot map within 10 s")
    }

    private func waitUntilRouting(password: String) throws {
        let client = try self.connect()
        if !password.isEmpty {
            guard try client.command(["AUTH", password]) == .simpleString("OK") else { throw HarnessError("AUTH refused") }
        }
        for _ in 0..<200 {
            if try client.command(["SET", "slotgate:probe", "1"]) == .simpleString("OK") { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw HarnessError("proxy did not load a slot map within 10 s")
    }
}
