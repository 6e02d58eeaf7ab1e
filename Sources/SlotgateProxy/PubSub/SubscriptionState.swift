//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster

/// A subscribed client's channels, patterns and subscriber links.
///
/// Classic pub/sub is cluster-wide (every node relays every message), so one link to any master
/// carries all of a client's channels and patterns. Sharded pub/sub lives with the slot of the
/// shard channel, so each master serving the client's shard channels gets a link of its own.
/// The names are kept so that a lost link can be replaced and its subscriptions made again.
struct SubscriptionState {
    /// The link for `SUBSCRIBE` and `PSUBSCRIBE`.
    var classicLink: NodeLink?
    /// Links for `SSUBSCRIBE`, by the master serving the channels.
    var shardLinks: [NodeAddress: NodeLink] = [:]
    /// Links to the other masters, for keyspace notifications (see `ClientSession+KeyspaceEvents`).
    var keyspaceLinks: [NodeAddress: NodeLink] = [:]
    /// Subscribed channels and patterns, as the client named them.
    var channels = Set<ByteBuffer>()
    var patterns = Set<ByteBuffer>()
    /// Shard channels, with the master each is subscribed on now; `nil` while it must be made
    /// again (its link was lost, or its slot moved and the node dropped it).
    var shardChannels: [ByteBuffer: NodeAddress?] = [:]
    /// Per link, the commands whose confirmation frames are still to come, oldest first, with
    /// how many frames each expects from that link.
    var awaiting: [ObjectIdentifier: [(confirmation: SubscriptionConfirmation, frames: Int)]] = [:]

    /// Every open subscriber link.
    var links: [NodeLink] {
        (self.classicLink.map { [$0] } ?? []) + Array(self.shardLinks.values) + Array(self.keyspaceLinks.values)
    }

    /// Whether any subscriber link is open (without gathering them, as ``links`` does).
    var hasLinks: Bool {
        self.classicLink != nil || !self.shardLinks.isEmpty || !self.keyspaceLinks.isEmpty
    }

    /// Whether the client is in subscribed mode: it has, or has asked for, a subscription.
    var isSubscribed: Bool {
        !self.channels.isEmpty || !self.patterns.isEmpty || !self.shardChannels.isEmpty
    }

    /// Whether nothing is left: no subscription, and no confirmation on its way.
    var isIdle: Bool {
        !self.isSubscribed && self.awaiting.values.allSatisfy(\.isEmpty)
    }

    /// Expects `frames` confirmation frames on `link` for `confirmation`.
    mutating func expect(_ frames: Int, on link: NodeLink, for confirmation: SubscriptionConfirmation) {
        confirmation.expect(frames)
        self.awaiting[ObjectIdentifier(link), default: []].append((confirmation, frames))
    }
}

/// The reply to one subscription command: the confirmation frames the nodes send for it, put
/// together, in the command's place in the client's line.
final class SubscriptionConfirmation {
    /// `nil` when Slotgate made the subscriptions itself (after a lost link): nobody waits.
    private let replySlot: ReplySlot?
    private var remaining = 0
    private var frames = ByteBuffer()

    init(replySlot: ReplySlot?) {
        self.replySlot = replySlot
    }

    func expect(_ count: Int) {
        self.remaining += count
    }

    func add(_ frame: ByteBuffer) {
        self.frames.writeImmutableBuffer(frame)
        self.remaining -= 1
        if self.remaining == 0 {
            self.replySlot?.fill(self.frames)
        }
    }

    /// A link that owed `count` frames is gone; what arrived is the reply, or an error if nothing did.
    func abandon(_ count: Int, reason: String) {
        self.remaining -= count
        guard self.remaining == 0 else { return }
        if self.frames.readableBytes > 0 {
            self.replySlot?.fill(self.frames)
        } else {
            self.replySlot?.fillError(reason)
        }
    }
}
