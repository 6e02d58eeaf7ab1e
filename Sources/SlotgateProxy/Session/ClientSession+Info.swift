//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateRESP

/// The `CLIENT INFO` / `CLIENT LIST` line of a client: every field Redis 7.0 prints, in its
/// order, so that tools which parse it find what they look for.
///
/// Fields Slotgate keeps are real: ages, flags, subscriptions, queued commands, the bytes of
/// unparsed requests (`qbuf`), replies owed (`oll`) and output waiting in the socket (`omem`),
/// the latest command. Those that describe Redis's own memory layout (`qbuf-free`, `argv-mem`,
/// `multi-mem`, `rbs`, `rbp`, `obl`) are 0, and `fd` is -1: Slotgate's event loops do not
/// expose their sockets' descriptors.
extension ClientSession {
    var infoLine: String {
        let now = NIODeadline.now()
        let state = self.connection
        let subscriptions = self.subscriptions
        let queryBytes = self.input.bufferedBytes + (self.handling?.command.wire.readableBytes ?? 0)
        let outputBytes = (try? self.context?.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
        let fields: [(String, String)] = [
            ("id", "\(state.id)"), ("addr", state.remoteAddress), ("laddr", state.localAddress), ("fd", "-1"),
            ("name", state.name ?? ""), ("age", "\((now - self.connectedAt).nanoseconds / 1_000_000_000)"),
            ("idle", "\((now - self.lastCommandAt).nanoseconds / 1_000_000_000)"), ("flags", self.flags), ("db", "0"),
            ("sub", "\(subscriptions?.channels.count ?? 0)"), ("psub", "\(subscriptions?.patterns.count ?? 0)"),
            ("ssub", "\(subscriptions?.shardChannels.count ?? 0)"),
            ("multi", self.transaction.queuedCount.map(String.init) ?? "-1"),
            ("qbuf", "\(queryBytes)"), ("qbuf-free", "0"), ("argv-mem", "0"), ("multi-mem", "0"), ("rbs", "0"), ("rbp", "0"),
            ("obl", "0"), ("oll", "\(self.line.count)"), ("omem", "\(outputBytes)"), ("tot-mem", "\(queryBytes + outputBytes)"),
            ("events", outputBytes > 0 ? "rw" : "r"), ("cmd", self.latestCommandName), ("user", "default"), ("redir", "-1"),
            ("resp", state.usesRESP3 ? "3" : "2"),
        ]
        return fields.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
    }

    /// Redis's client flags that apply through Slotgate: `x` in MULTI, `b` blocked, `P` subscribed,
    /// `N` for none.
    private var flags: String {
        var flags = ""
        if self.transaction.inMulti { flags += "x" }
        if self.blockingLink != nil { flags += "b" }
        if self.subscriptions?.isSubscribed == true { flags += "P" }
        return flags.isEmpty ? "N" : flags
    }

    /// `client|list` style: the command's name, and its subcommand when it has them; `NULL`
    /// before the first command, as Redis prints it.
    private var latestCommandName: String {
        guard let catalog = self.router.catalog, self.latestStatIndex >= 0, Int(self.latestStatIndex) < catalog.entries.count else {
            return "NULL"
        }
        let spec = catalog.entries[Int(self.latestStatIndex)].spec
        return spec.subcommands.isEmpty || self.latestSubcommand.isEmpty ? spec.name : "\(spec.name)|\(self.latestSubcommand)"
    }
}
