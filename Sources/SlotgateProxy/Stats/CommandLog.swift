//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import FoundationEssentials
import NIOCore
import SlotgateCluster
import SlotgateRESP

/// Counts every reply that leaves for one of the loop's clients — its command, its outcome, its
/// latency — and writes the slow ones to the slow log.
///
/// The hot path passes only what it already has (the reply line's entry, the request and reply
/// bytes); names are read again from the request only when a figure needs them.
final class CommandLog {
    /// Decodes requests again for the slow log and for names the catalog lacks, reusing its storage.
    private var rereader = RESPRequestDecoder()

    /// The reply to the command in `entry` (whose bytes are `request`) left for `client`, of this
    /// log's loop.
    func answered(_ entry: ReplyLine.Entry, request: ByteBuffer, reply: ByteBuffer, client: ClientSession) {
        let loop = client.loop
        let microseconds = (loop.now - entry.startedAt).nanoseconds / 1000
        loop.stats.answered(
            statIndex: Int(entry.statIndex),
            name: { Self.name(self.leadingArguments(of: request).command) },
            commandClass: entry.commandClass,
            reply: reply,
            microseconds: microseconds
        )
        let threshold = loop.settings.slowlogSlowerThan
        guard threshold >= 0, microseconds >= threshold else { return }
        let (command, firstArgument) = self.leadingArguments(of: request)
        let node =
            entry.commandClass == .routed
            ? firstArgument.flatMap { argument in
                loop.router.master(for: argument.withUnsafeReadableBytes { HashSlot(key: $0) })
            } : nil
        loop.stats.slowLog.add(
            SlowLog.Entry(
                id: 0,
                timestamp: Int(Date().timeIntervalSince1970),
                durationMicroseconds: microseconds,
                command: loop.stats.commandName(statIndex: Int(entry.statIndex)) ?? Self.name(command),
                firstKey: firstArgument.map { String(decoding: $0.readableBytesView.prefix(64), as: UTF8.self) } ?? "",
                node: node,
                client: client.remoteAddress
            ),
            maxLength: loop.settings.slowlogMaxLength
        )
    }

    /// A request's name and first argument, read again from its bytes with the loop's own
    /// decoder; the name is made text only when the catalog lacks it.
    private func leadingArguments(of request: ByteBuffer) -> (command: ByteBuffer?, firstArgument: ByteBuffer?) {
        var bytes = request
        guard let parsed = try? self.rereader.nextRequest(in: &bytes) else { return (nil, nil) }
        return (parsed.argument(0), parsed.argumentCount > 1 ? parsed.argument(1) : nil)
    }

    /// A command's name as the tallies and the slow log spell it: lower case.
    private static func name(_ command: ByteBuffer?) -> String {
        command.map { String(decoding: $0.readableBytesView, as: UTF8.self).lowercased() } ?? ""
    }
}

@available(*, unavailable)
extension CommandLog: Sendable {}
