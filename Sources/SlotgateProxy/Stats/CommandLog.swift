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
            name: { self.leadingArguments(of: request).name },
            commandClass: entry.commandClass,
            reply: reply,
            microseconds: microseconds
        )
        let threshold = loop.settings.slowlogSlowerThan
        guard threshold >= 0, microseconds >= threshold else { return }
        let (name, firstArgument) = self.leadingArguments(of: request)
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
                command: name,
                firstKey: firstArgument.map { String(decoding: $0.readableBytesView.prefix(64), as: UTF8.self) } ?? "",
                node: node.map(\.description) ?? "",
                client: client.remoteAddress
            ),
            maxLength: loop.settings.slowlogMaxLength
        )
    }

    /// A request's lower-case name and first argument, read again from its bytes, with the loop's
    /// own decoder (nothing allocated but the name).
    private func leadingArguments(of request: ByteBuffer) -> (name: String, firstArgument: ByteBuffer?) {
        var bytes = request
        guard let parsed = try? self.rereader.nextRequest(in: &bytes) else { return ("", nil) }
        let name = parsed.withArgument(0) { String(decoding: $0, as: UTF8.self) }.lowercased()
        return (name, parsed.argumentCount > 1 ? parsed.argument(1) : nil)
    }
}

@available(*, unavailable)
extension CommandLog: Sendable {}
