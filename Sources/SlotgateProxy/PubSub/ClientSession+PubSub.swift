//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateRESP

/// Pub/sub: a subscribed client gets subscriber links of its own (see ``SubscriptionState``).
/// A subscription command's confirmation frames become its reply, in its place in the line;
/// messages take their place in the line as they arrive.
extension ClientSession {
    static let subscriptionCommands: Set<String> = ["subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe"]

    /// Frame types that answer a command on a subscriber link (the rest are messages).
    private static let confirmationTypes: Set<String> = subscriptionCommands.union(["pong"])

    /// Handles a command the planner gave the subscriber links: a subscription command, or a
    /// `PING` while subscribed.
    func handlePubSub(_ command: RESPCommand, name: String, replySlot: ReplySlot) {
        var state = self.subscriptions ?? SubscriptionState()
        defer { self.subscriptions = state.isIdle && state.links.isEmpty ? nil : state }
        let names = Array(command.arguments.dropFirst())
        let confirmation = SubscriptionConfirmation(replySlot: replySlot)
        switch name {
        case "subscribe", "psubscribe":
            guard !names.isEmpty else {
                replySlot.fillError(ProxyErrors.arity(name))
                return
            }
            guard let link = self.classicSubscriberLink(&state, failing: replySlot) else { return }
            if name == "subscribe" { state.channels.formUnion(names) } else { state.patterns.formUnion(names) }
            state.expect(names.count, on: link, for: confirmation)
            link.send(RoutedRequest(wire: command.wire, slot: nil, target: .discard))
            self.subscribeKeyspaceEvents(name.uppercased(), names, onlyNewLinks: false, state: &state)
        case "ssubscribe":
            guard case .command(_, let keys) = self.router.resolve(command), !names.isEmpty else {
                replySlot.fillError(ProxyErrors.arity(name))
                return
            }
            guard !keys.spansSlots else {
                replySlot.fillError(ProxyErrors.crossSlot)
                return
            }
            guard let master = self.router.master(for: keys.slot), let link = self.shardSubscriberLink(to: master, &state, failing: replySlot)
            else { return }
            for channel in names { state.shardChannels[channel] = .some(master) }
            state.expect(names.count, on: link, for: confirmation)
            link.send(RoutedRequest(wire: command.wire, slot: keys.slot, target: .discard))
        case "unsubscribe", "punsubscribe", "sunsubscribe":
            self.unsubscribe(command, name: name, names: names, confirmation: confirmation, replySlot: replySlot, state: &state)
        case "ping":
            guard let link = state.links.first else { preconditionFailure("Invalid state: PING planned for subscriber links there are not") }
            state.expect(1, on: link, for: confirmation)
            link.send(RoutedRequest(wire: command.wire, slot: nil, target: .discard))
        default:
            preconditionFailure("Invalid state: \(name) planned as a subscription command")
        }
    }

    /// `RESET` or `QUIT` while subscribed: every subscription and subscriber link goes; what was
    /// owed is answered.
    func leaveSubscriptions() {
        var state = self.subscriptions ?? SubscriptionState()
        self.subscriptions = nil
        state.closeAll(reason: ProxyErrors.subscriberLinkClosed)
    }

    /// Sends an unsubscribe to the links that hold the names, expecting one confirmation per name
    /// (per subscription held, when no names are given), as Redis sends them.
    private func unsubscribe(
        _ command: RESPCommand,
        name: String,
        names: [ByteBuffer],
        confirmation: SubscriptionConfirmation,
        replySlot: ReplySlot,
        state: inout SubscriptionState
    ) {
        let held: Set<ByteBuffer>
        switch name {
        case "unsubscribe": held = state.channels
        case "punsubscribe": held = state.patterns
        default: held = Set(state.shardChannels.keys)
        }
        let links = name == "sunsubscribe" ? Array(state.shardLinks.values) : state.classicLink.map { [$0] } ?? []
        guard !links.isEmpty else {
            replySlot.fill(Self.notSubscribedReplies(type: name, channels: names, resp3: self.usesRESP3))
            return
        }
        let removed = names.isEmpty ? Array(held) : names
        var expected = false
        switch name {
        case "unsubscribe": state.channels.subtract(removed)
        case "punsubscribe": state.patterns.subtract(removed)
        default: removed.forEach { state.shardChannels[$0] = nil }
        }
        if name != "sunsubscribe" {
            self.unsubscribeKeyspaceEvents(name.uppercased(), removed, state: &state)
        }
        for link in links {
            let frames: Int
            if name != "sunsubscribe" {
                frames = max(removed.count, 1)
            } else {
                // Each shard link confirms the names it serves; a link serving none of them still
                // confirms once when asked to drop everything.
                let served = removed.filter { self.router.master(for: $0.withUnsafeReadableBytes { HashSlot(key: $0) }) == link.address }
                frames = names.isEmpty ? max(served.count, 1) : served.count
                guard frames > 0 else { continue }
            }
            state.expect(frames, on: link, for: confirmation)
            expected = true
            link.send(RoutedRequest(wire: command.wire, slot: nil, target: .discard))
        }
        if !expected {
            replySlot.fill(Self.notSubscribedReplies(type: name, channels: names, resp3: self.usesRESP3))
        }
    }

    /// A frame from a subscriber link: the confirmation a command waits for, or a message.
    func subscriberLink(_ link: NodeLink, pushed frame: FramedReply) {
        guard var state = self.subscriptions else { return }
        let key = ObjectIdentifier(link)
        let elements = RESPReplyScanner.elements(ofArray: frame.bytes) ?? []
        let type = elements.first.flatMap(RESPReplyScanner.bulkText)?.lowercased() ?? ""
        let nothingAwaited = state.awaiting[key]?.isEmpty ?? true
        if type == "sunsubscribe", nothingAwaited, elements.count == 3, let channel = RESPReplyScanner.bulkPayload(elements[1]),
            state.shardChannels[channel] != nil
        {
            // The node dropped a shard channel the client still wants: its slot moved. Subscribe
            // again where the slot is now, once the map has caught up.
            state.shardChannels[channel] = .some(nil)
            self.subscriptions = state
            self.resubscribeAfterTopologyChange()
            return
        }
        if frame.kind == .error, !nothingAwaited, var queue = state.awaiting[key] {
            // A refusal answers the whole command at once (a MOVED for a stale map): give the
            // client the error, and make this link's shard channels again later.
            let (confirmation, frames) = queue.removeFirst()
            state.awaiting[key] = queue
            confirmation.add(frame.bytes)
            confirmation.abandon(frames - 1, reason: frame.lineText)
            if let node = state.shardLinks.first(where: { $0.value === link })?.key {
                state.forgetShardChannels(on: node)
                self.subscriptions = state
                self.resubscribeAfterTopologyChange()
                return
            }
        } else if Self.confirmationTypes.contains(type), var queue = state.awaiting[key], !queue.isEmpty {
            queue[0].confirmation.add(frame.bytes)
            queue[0].frames -= 1
            if queue[0].frames == 0 { queue.removeFirst() }
            state.awaiting[key] = queue
        } else if !state.keyspaceLinks.values.contains(where: { $0 === link }) || Self.isKeyspaceEvent(elements, type: type) {
            // A keyspace link passes on keyspace notifications only: the subscriber link has the rest.
            self.push(frame.bytes)
        }
        if state.isIdle {
            // Out of subscribed mode first, so closing the links is not taken for a loss.
            self.subscriptions = nil
            state.closeAll(reason: ProxyErrors.subscriberLinkClosed)
        } else {
            self.subscriptions = state
        }
    }

    /// A subscriber link dropped: what it owed is answered, and its subscriptions are made again
    /// on a new link, the client none the wiser (messages published in between are lost, as
    /// pub/sub allows).
    func subscriberLinkClosed(_ link: NodeLink, connectFailed: Bool) {
        guard var state = self.subscriptions, state.links.contains(where: { $0 === link }) else { return }
        for (confirmation, frames) in state.awaiting.removeValue(forKey: ObjectIdentifier(link)) ?? [] {
            confirmation.abandon(frames, reason: ProxyErrors.subscriberLinkLost(link.address))
        }
        if state.classicLink === link {
            state.classicLink = nil
        } else if let node = state.keyspaceLinks.first(where: { $0.value === link })?.key {
            state.keyspaceLinks[node] = nil
        } else if let node = state.shardLinks.first(where: { $0.value === link })?.key {
            state.shardLinks[node] = nil
            state.forgetShardChannels(on: node)
        }
        self.subscriptions = state.isIdle && state.links.isEmpty ? nil : state
        guard self.lifecycle.isOpen, state.isSubscribed else { return }
        self.resubscribeAfterTopologyChange()
    }

    /// Asks for a fresh slot map and makes the lost subscriptions again a little later, with it.
    private func resubscribeAfterTopologyChange() {
        self.router.topologyChanged()
        let loopBound = NIOLoopBound(self, eventLoop: self.loop.eventLoop)
        self.loop.eventLoop.scheduleTask(in: .milliseconds(300)) {
            loopBound.value.resubscribe()
        }
    }

    /// Makes every remembered subscription that has no link again.
    private func resubscribe() {
        guard var state = self.subscriptions, self.lifecycle.isOpen else { return }
        defer { self.subscriptions = state }
        if state.classicLink == nil && !(state.channels.isEmpty && state.patterns.isEmpty),
            let link = self.classicSubscriberLink(&state, failing: nil)
        {
            for (command, names) in [("SUBSCRIBE", state.channels), ("PSUBSCRIBE", state.patterns)] where !names.isEmpty {
                self.resend(command, Array(names), on: link, in: &state)
            }
        }
        for (command, names) in [("SUBSCRIBE", state.channels), ("PSUBSCRIBE", state.patterns)] {
            self.subscribeKeyspaceEvents(command, Array(names), onlyNewLinks: true, state: &state)
        }
        var bySlotOwner: [NodeAddress: [ByteBuffer]] = [:]
        for (channel, owner) in state.shardChannels where owner == nil {
            let slot = channel.withUnsafeReadableBytes { HashSlot(key: $0) }
            if let master = self.router.master(for: slot) { bySlotOwner[master, default: []].append(channel) }
        }
        for (master, channels) in bySlotOwner {
            guard let link = self.shardSubscriberLink(to: master, &state, failing: nil) else { continue }
            for channel in channels { state.shardChannels[channel] = .some(master) }
            self.resend("SSUBSCRIBE", channels, on: link, in: &state)
        }
        self.loop.flush.schedule()
    }

    /// Subscribes again on a new link; the confirmations are Slotgate's, so nobody gets them.
    private func resend(_ command: String, _ names: [ByteBuffer], on link: NodeLink, in state: inout SubscriptionState) {
        var wire = ByteBuffer()
        wire.writeRESPCommand([ByteBuffer(string: command)] + names)
        state.expect(names.count, on: link, for: SubscriptionConfirmation(replySlot: nil))
        link.send(RoutedRequest(wire: wire, slot: nil, target: .discard))
    }

    private func classicSubscriberLink(_ state: inout SubscriptionState, failing replySlot: ReplySlot?) -> NodeLink? {
        if let link = state.classicLink { return link }
        guard let master = self.router.pubSubNode, let link = self.openExclusiveLink(to: master, carriesPushes: true) else {
            replySlot?.fillError(ProxyErrors.exclusiveLinksExhausted(self.loop.shared.exclusiveLinks))
            return nil
        }
        state.classicLink = link
        return link
    }

    private func shardSubscriberLink(to master: NodeAddress, _ state: inout SubscriptionState, failing replySlot: ReplySlot?) -> NodeLink? {
        if let link = state.shardLinks[master] { return link }
        guard let link = self.openExclusiveLink(to: master, carriesPushes: true) else {
            replySlot?.fillError(ProxyErrors.exclusiveLinksExhausted(self.loop.shared.exclusiveLinks))
            return nil
        }
        state.shardLinks[master] = link
        return link
    }

    /// What Redis answers to an unsubscribe from a client that is not subscribed: a confirmation
    /// with count 0 for each name, or one with a null name.
    private static func notSubscribedReplies(type: String, channels: [ByteBuffer], resp3: Bool) -> ByteBuffer {
        var reply = ByteBuffer()
        for channel in channels.isEmpty ? [nil] : channels.map(Optional.some) {
            reply.writeRESPPushHeader(count: 3, resp3: resp3)
            reply.writeRESPBulkString(type)
            if let channel { reply.writeRESPBulkString(channel) } else { reply.writeRESPNull(resp3: resp3) }
            reply.writeRESPInteger(0)
        }
        return reply
    }
}

extension SubscriptionState {
    /// Marks the shard channels subscribed on `node` as needing to be made again.
    mutating func forgetShardChannels(on node: NodeAddress) {
        for (channel, owner) in self.shardChannels where owner == node {
            self.shardChannels[channel] = .some(nil)
        }
    }

    /// Closes every subscriber link and forgets every subscription; what was owed is answered.
    mutating func closeAll(reason: String) {
        let links = self.links
        let awaiting = self.awaiting
        self = SubscriptionState()
        for entries in awaiting.values {
            for (confirmation, frames) in entries { confirmation.abandon(frames, reason: reason) }
        }
        for link in links { link.close() }
    }
}
