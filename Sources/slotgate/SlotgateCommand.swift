//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import ArgumentParser
import Logging
import SlotgateCluster
import SlotgateProxy

/// The `slotgate` command line: reads the configuration file, applies the flags over it, starts
/// the proxy and runs it until SIGINT or SIGTERM.
@main
struct SlotgateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slotgate",
        abstract: "A Redis Cluster proxy: point any single-node Redis client at one port.",
        version: SlotgateInfo.version
    )

    @Option(name: .long, help: "A redis.conf-style configuration file (see proxy.conf.example).")
    var config: String?

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
        let configuration: ProxyConfiguration
        do {
            configuration = try self.effectiveConfiguration()
        } catch {
            throw ValidationError(error.description)
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = configuration.logLevel
            return handler
        }
        let logger = Logger(label: "slotgate")
        let server = try await ProxyServer.start(configuration: configuration, logger: logger)
        let signal = await TerminationSignal.wait()
        logger.info("shutting down", metadata: ["signal": "\(signal)"])
        try await server.shutdown()
    }

    /// The file's configuration (or the defaults) with the command-line flags over it.
    private func effectiveConfiguration() throws(ConfigurationError) -> ProxyConfiguration {
        var configuration =
            try self.config.map { (path: String) throws(ConfigurationError) in try ProxyConfiguration(contentsOfFile: path) }
            ?? ProxyConfiguration()
        if let port { try configuration.set("port", [String(port)]) }
        if let bind { try configuration.set("bind", [bind]) }
        if let threads { try configuration.set("threads", [String(threads)]) }
        if let logLevel { try configuration.set("log-level", [logLevel]) }
        if !self.seeds.isEmpty { configuration.seeds = try ProxyConfiguration.parseSeeds(self.seeds) }
        return configuration
    }
}
