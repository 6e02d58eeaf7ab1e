//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Logging
import ServiceLifecycle
import SlotgateConfiguration
import SlotgateProxy
import UnixSignals

/// The proxy as a swift-service-lifecycle service: starts it, tells systemd when it is ready
/// and that it is alive, reloads the configuration on SIGHUP, and on graceful shutdown (SIGTERM,
/// SIGINT) lets the clients' commands in flight finish before it stops.
struct ProxyService: Service {
    let configuration: ProxyConfiguration
    let logger: Logger
    /// Reads the configuration file again, for SIGHUP.
    let reloadConfiguration: @Sendable () throws(ConfigurationError) -> ProxyConfiguration

    func run() async throws {
        let server = try await ProxyServer.start(configuration: self.configuration, logger: self.logger)
        let notifier = SystemdNotifier()
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await self.announceReadiness(server, notifier) }
            tasks.addTask { await self.reloadOnHangUp(server) }
            try? await gracefulShutdown()
            tasks.cancelAll()
        }
        self.logger.info("shutting down")
        notifier.stopping()
        try await server.shutdown()
    }

    /// Sends READY=1 once the proxy holds a slot map, then STATUS= and, under a watchdog,
    /// WATCHDOG=1 at half the watchdog interval (every 5 s otherwise), until cancelled.
    private func announceReadiness(_ server: ProxyServer, _ notifier: SystemdNotifier) async {
        var ready = false
        while !Task.isCancelled {
            if let status = await server.status() {
                let text = "\(status.clients) clients, slot map version \(status.mapVersion)"
                if !ready {
                    ready = true
                    notifier.ready(status: text)
                    self.logger.info("ready", metadata: ["map.version": "\(status.mapVersion)"])
                } else {
                    notifier.status(text)
                }
            }
            if ready { notifier.watchdog() }
            let pause = ready ? (notifier.watchdogInterval.map { $0 / 2 } ?? .seconds(5)) : .milliseconds(100)
            try? await Task.sleep(for: pause)
        }
    }

    /// Reloads the configuration file on every SIGHUP: a file with an error is rejected with the
    /// reason and the configuration in force stays.
    private func reloadOnHangUp(_ server: ProxyServer) async {
        for await _ in await UnixSignalsSequence(trapping: .sighup) {
            do {
                let configuration = try self.reloadConfiguration()
                let needRestart = server.reload(configuration)
                self.logger.notice(
                    "configuration reloaded",
                    metadata: ["log_level": "\(configuration.logLevel)", "restart_needed": "\(needRestart.joined(separator: ","))"]
                )
            } catch {
                self.logger.error("configuration reload rejected; the previous configuration stays", metadata: ["reason": "\(error.description)"])
            }
        }
    }
}
