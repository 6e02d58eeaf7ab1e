//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import ArgumentParser
import SlotgateProxy

/// The `slotgate` command line: run the proxy (the default), check a configuration file, or
/// watch a running proxy through its admin port.
@main
struct SlotgateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slotgate",
        abstract: "A Redis Cluster proxy: point any single-node Redis client at one port.",
        version: SlotgateInfo.version,
        subcommands: [ServeCommand.self, StatsCommand.self, TopCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
