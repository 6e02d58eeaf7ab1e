//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import ArgumentParser
import Logging
import ServiceLifecycle
import SlotgateConfiguration
import SlotgateProxy
import UnixSignals

/// `slotgate [serve]`: reads the configuration file, applies the flags over it, and runs the
/// proxy until SIGTERM or SIGINT (a graceful stop); SIGHUP reloads the file. With
/// `--check-config` it only validates the file and prints the effective configuration.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the proxy (the default).")

    @Option(name: .long, help: "A redis.conf-style configuration file (see proxy.conf.example).")
    var config: String?

    @Option(name: .customLong("check-config"), help: "Validate FILE, print the effective configuration and exit.")
    var checkConfig: String?

    @Option(name: .long, help: "Client port (default 7777).")
    var port: Int?

    @Option(name: .long, help: "Address to listen on (default 127.0.0.1).")
    var bind: String?

    @Option(name: .customLong("cluster"), help: "A cluster node HOST:PORT to discover the topology from; repeat for more.")
    var seeds: [String] = []

    @Option(name: .long, help: "Event loop threads (default: the number of cores).")
    var threads: Int?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default info).")
    var logLevel: String?

    func run() async throws {
        if let checkConfig {
            try self.check(checkConfig)
            return
        }
        let configuration: ProxyConfiguration
        do {
            configuration = try self.effectiveConfiguration(file: self.config)
        } catch {
            throw ValidationError(error.description)
        }
        LogLevelControl.shared.level = configuration.logLevel
        LoggingSystem.bootstrap { label in
            LevelControlledLogHandler(wrapping: KeyValueLogHandler(label: label))
        }
        let logger = Logger(label: "slotgate")
        let flags = self
        let service = ProxyService(configuration: configuration, logger: logger) { () throws(ConfigurationError) in
            try flags.effectiveConfiguration(file: flags.config)
        }
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
    }

    /// `--check-config`: the effective configuration, one `directive value` line each, or the
    /// reason the file is rejected (exit status 1).
    private func check(_ path: String) throws {
        do {
            let configuration = try self.effectiveConfiguration(file: path)
            for name in ProxyConfiguration.directiveNames {
                print("\(name) \(configuration.value(of: name))")
            }
        } catch {
            print("slotgate: \(error.description)")
            throw ExitCode(1)
        }
    }

    /// The file's configuration (or the defaults) with the command-line flags over it.
    func effectiveConfiguration(file: String?) throws(ConfigurationError) -> ProxyConfiguration {
        var configuration =
            try file.map { (path: String) throws(ConfigurationError) in try ProxyConfiguration(contentsOfFile: path) }
            ?? ProxyConfiguration()
        if let port { try configuration.set("port", [String(port)]) }
        if let bind { try configuration.set("bind", [bind]) }
        if let threads { try configuration.set("threads", [String(threads)]) }
        if let logLevel { try configuration.set("log-level", [logLevel]) }
        if !self.seeds.isEmpty { configuration.seeds = try ProxyConfiguration.parseSeeds(self.seeds) }
        return configuration
    }
}
