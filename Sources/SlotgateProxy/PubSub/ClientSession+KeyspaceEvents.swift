//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateRESP

/// Keyspace notifications (`__keyspace@0__:KEY`, `__keyevent@0__:EVENT`) for subscribed clients.
///
/// A message a client publishes reaches every node, so one subscriber link carries a client's
/// channels and patterns. A keyspace notification does not: the master that changed the key
/// sends it to its own subscribers only. So the channels and patterns that can name such a
/// notification are also subscribed on every other master, each on a link of its own, and from
/// those links only keyspace notifications reach the client; the rest comes from the one
/// subscriber link, once.
extension ClientSession {
    private static let keyspacePrefixes = [Array("__keyspace@".utf8), Array("__keyevent@".utf8)]

    /// Whether a channel, or a pattern's matches, can be a keyspace notification's channel: the
    /// channel starts with `__keyspace@` or `__keyevent@`; the pattern's literal start (up to its
    /// first `*`, `?`, `[` or `\`) agrees with one of them as far as both go.
    static func mayCarryKeyspaceEvents(_ name: ByteBuffer, pattern: Bool) -> Bool {
        let bytes = Array(name.readableBytesView)
        guard pattern else {
            return Self.keyspacePrefixes.contains { bytes.starts(with: $0) }
        }
        let literal = bytes.prefix { !"*?[\\".utf8.contains($0) }
        return Self.keyspacePrefixes.contains { $0.starts(with: literal) || literal.starts(with: $0) }
    }

    /// Whether a message frame (`message` or `pmessage`) carries a keyspace notification.
    static func isKeyspaceEvent(_ elements: [ByteBuffer], type: String) -> Bool {
        let channelIndex = type == "pmessage" ? 2 : 1
        guard type == "message" || type == "pmessage", channelIndex < elements.count,
            let channel = RESPReplyScanner.bulkPayload(elements[channelIndex])
        else { return false }
        return Self.mayCarryKeyspaceEvents(channel, pattern: false)
    }

    /// Sends `command` (`SUBSCRIBE` or `PSUBSCRIBE`) for those of `names` that can carry keyspace
    /// notifications to every master but the subscriber link's, on the client's keyspace links
    /// (opened as needed; only to masters without one when `onlyNewLinks`). The confirmations
    /// are Slotgate's: the client gets those of its subscriber link.
    func subscribeKeyspaceEvents(_ command: String, _ names: [ByteBuffer], onlyNewLinks: Bool, state: inout SubscriptionState) {
        let pattern = command == "PSUBSCRIBE"
        let wanted = names.filter { Self.mayCarryKeyspaceEvents($0, pattern: pattern) }
        guard !wanted.isEmpty, let masters = self.router.view?.slotMap.shards.map(\.master) else { return }
        let subscriberNode = state.classicLink?.address ?? self.router.pubSubNode
        for master in masters where master != subscriberNode {
            let existing = state.keyspaceLinks[master]
            if onlyNewLinks && existing != nil { continue }
            guard let link = existing ?? self.openExclusiveLink(to: master, carriesPushes: true) else { continue }
            state.keyspaceLinks[master] = link
            self.sendToKeyspaceLink(command, wanted, link, state: &state)
        }
    }

    /// After an `UNSUBSCRIBE` or `PUNSUBSCRIBE` took `removed` off the client's subscriptions:
    /// a keyspace link with nothing left to carry is closed, the others drop those names.
    func unsubscribeKeyspaceEvents(_ command: String, _ removed: [ByteBuffer], state: inout SubscriptionState) {
        let stillCarried =
            state.channels.contains { Self.mayCarryKeyspaceEvents($0, pattern: false) }
            || state.patterns.contains { Self.mayCarryKeyspaceEvents($0, pattern: true) }
        let dropped = removed.filter { Self.mayCarryKeyspaceEvents($0, pattern: command == "PUNSUBSCRIBE") }
        for (master, link) in state.keyspaceLinks {
            if !stillCarried {
                // Forgotten first, so that its closing is not taken for a loss.
                state.keyspaceLinks[master] = nil
                for (confirmation, frames) in state.awaiting.removeValue(forKey: ObjectIdentifier(link)) ?? [] {
                    confirmation.abandon(frames, reason: ProxyErrors.subscriberLinkClosed)
                }
                link.close()
            } else if !dropped.isEmpty {
                self.sendToKeyspaceLink(command, dropped, link, state: &state)
            }
        }
    }

    private func sendToKeyspaceLink(_ command: String, _ names: [ByteBuffer], _ link: NodeLink, state: inout SubscriptionState) {
        var wire = ByteBuffer()
        wire.writeRESPCommand([ByteBuffer(string: command)] + names)
        state.expect(names.count, on: link, for: SubscriptionConfirmation(replySlot: nil))
        link.send(RoutedRequest(wire: wire, slot: nil, target: .discard))
    }
}
