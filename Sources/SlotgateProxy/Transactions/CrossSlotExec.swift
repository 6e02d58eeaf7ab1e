//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateRESP

/// One `EXEC` of a per-slot transaction (``PerSlotQueue``) on its way: it gathers each slot
/// group's outcome and, once the last is in, fills the client's slot with one array in the
/// client's order.
///
/// The groups run side by side. After a `WATCH`, group 0 (the link that holds the watch) commits
/// first: if its `EXEC` gives nil, or fails, the other groups are never sent, so nothing is
/// written anywhere. A group that cannot commit puts an error in each of its commands' places,
/// saying whether they may have run; groups that committed stay committed, and nothing is re-sent.
final class CrossSlotExec {
    /// What became of one group.
    enum Outcome {
        /// Its `EXEC` ran: one reply per command.
        case committed([FramedReply])
        /// It did not commit; the error its commands get.
        case notCommitted(String)
    }

    private let replySlot: ReplySlot
    let queue: PerSlotQueue
    /// The master of each of the other groups (group `g` at `g - 1`); `nil` where no node serves the slot.
    let masters: [NodeAddress?]
    /// The transaction's link and slot (group 0); `nil` when only other groups were queued.
    private let linkNode: NodeAddress?
    private let linkSlot: HashSlot?
    /// The transaction began with `WATCH`: group 0 commits before the others are sent.
    let linkGroupFirst: Bool
    /// The session whose links carry the groups; it hears when the `EXEC` is over.
    private weak var session: ClientSession?
    private var outcomes: [Outcome?]
    private var missing: Int
    /// The links opened for the other groups, by node, until their last `EXEC` is answered.
    private(set) var links: [NodeAddress: NodeLink] = [:]
    private(set) var isFinished = false

    init(
        replySlot: ReplySlot,
        queue: PerSlotQueue,
        masters: [NodeAddress?],
        link: (node: NodeAddress, slot: HashSlot?)?,
        linkGroupFirst: Bool,
        session: ClientSession
    ) {
        self.replySlot = replySlot
        self.queue = queue
        self.masters = masters
        self.linkNode = link?.node
        self.linkSlot = link?.slot
        self.linkGroupFirst = linkGroupFirst && link != nil
        self.session = session
        self.outcomes = Array(repeating: nil, count: queue.otherGroups.count + 1)
        self.missing = self.outcomes.count
    }

    var isAwaited: Bool { self.replySlot.isAwaited }
    var usesRESP3: Bool { self.replySlot.usesRESP3 }
    var nodeLogin: NodeLogins.ID { self.replySlot.nodeLogin }
    /// A slot group's request went to `node` (see ``ReplyTarget/wrote(to:)``).
    func wrote(to node: NodeAddress) { self.replySlot.session.wrote(to: node) }

    /// Starts the groups not waiting for the link's `EXEC` (already sent when there is a link).
    func begin() {
        if self.linkNode == nil {
            self.groupDone(0, .committed([]))
        } else if !self.linkGroupFirst {
            self.session?.sendSlotGroups(of: self)
        }
    }

    /// A link of the client's own to `node` for the other groups: one link per master carries
    /// each of its groups' `MULTI`…`EXEC` in turn.
    func link(to node: NodeAddress, opening: () -> NodeLink?) -> NodeLink? {
        if let link = self.links[node] { return link }
        let link = opening()
        self.links[node] = link
        return link
    }

    /// A group's link answered its last request: the session may have it back.
    func linkIsDone(_ link: NodeLink) {
        guard !link.hasRequestsInFlight, self.links[link.address] === link else { return }
        self.links[link.address] = nil
        self.session?.releaseExclusiveLink(link)
    }

    /// A group's link is gone; its requests are failed by the link itself.
    func linkIsGone(_ link: NodeLink) {
        if self.links[link.address] === link {
            self.links[link.address] = nil
        }
    }

    /// A group's node no longer serves its slot.
    func slotMoved() {
        self.session?.router.topologyChanged()
    }

    /// Closes the groups' links, when the client goes away mid-`EXEC`.
    func closeLinks() {
        let links = self.links.values
        self.links = [:]
        for link in links {
            link.close()
        }
    }

    /// The error a group's commands get when it did not commit.
    func failure(ofGroup group: Int, mayHaveRun: Bool, reason: String) -> Outcome {
        let slot = group == 0 ? self.linkSlot : self.queue.otherGroups[group - 1].slot
        let node = group == 0 ? self.linkNode : self.masters[group - 1]
        return .notCommitted(ProxyErrors.slotGroupNotCommitted(slot: slot, node: node, mayHaveRun: mayHaveRun, reason: reason))
    }

    /// Group `group`'s `EXEC` was answered by `reply`.
    func groupReplied(_ group: Int, _ reply: FramedReply, queueError: String?) {
        if group == 0 && self.linkGroupFirst && reply.kind != .array {
            // The watched keys changed (nil), or the node refused the transaction: as Redis would,
            // the client gets that reply, and the other groups are never sent.
            self.finish(with: reply.bytes)
            return
        }
        guard reply.kind == .array, let elements = RESPReplyScanner.framedElements(ofArray: reply.bytes),
            elements.count == self.queue.commandCount(ofGroup: group)
        else {
            self.groupDone(group, self.failure(ofGroup: group, mayHaveRun: reply.kind != .error, reason: queueError ?? reply.lineText))
            return
        }
        self.groupDone(group, .committed(elements))
    }

    /// Group `group` ended with `outcome`; the last group completes the client's reply.
    func groupDone(_ group: Int, _ outcome: Outcome) {
        guard !self.isFinished, self.outcomes[group] == nil else { return }
        self.outcomes[group] = outcome
        self.missing -= 1
        if group == 0 && self.linkGroupFirst {
            if case .committed = outcome {
                self.session?.sendSlotGroups(of: self)
            } else {
                for other in 1..<self.outcomes.count {
                    self.outcomes[other] = self.failure(ofGroup: other, mayHaveRun: false, reason: ProxyErrors.watchedGroupNotCommitted)
                }
                self.missing = 0
            }
        }
        if self.missing == 0 && !self.isFinished {
            self.finish(with: Self.reply(entries: self.queue.entries, outcomes: self.outcomes.map { $0! }, resp3: self.usesRESP3))
        }
    }

    private func finish(with reply: ByteBuffer) {
        self.isFinished = true
        self.replySlot.fill(reply)
        self.session?.endTransactionIfDone()
    }

    /// `EXEC`'s array: each queued command's reply in the client's order, from the groups' outcomes.
    static func reply(entries: [PerSlotQueue.Entry], outcomes: [Outcome], resp3: Bool) -> ByteBuffer {
        func reply(at place: PerSlotQueue.Place) -> FramedReply {
            switch outcomes[place.group] {
            case .committed(let replies):
                return replies[place.index]
            case .notCommitted(let message):
                var error = ByteBuffer()
                error.writeRESPError(message)
                return FramedReply(kind: .error, bytes: error)
            }
        }
        var bytes = ByteBuffer()
        bytes.writeRESPArrayHeader(count: entries.count)
        for entry in entries {
            switch entry {
            case .one(let place):
                bytes.writeImmutableBuffer(reply(at: place).bytes)
            case .merged(let merge, let places):
                bytes.writeImmutableBuffer(merge.merge(places.map(reply(at:)), resp3: resp3))
            }
        }
        return bytes
    }
}

/// One slot group's requests on their link — `MULTI`, its commands, `EXEC` — as the target of
/// their replies: the queueing replies are checked for the first error, the last reply is the
/// group's outcome. Group 0's run carries only its `EXEC`, the rest went on the link as queued.
final class SlotGroupRun {
    let exec: CrossSlotExec
    let group: Int
    /// The group's own link; `nil` for group 0, whose link is the transaction's.
    private let link: NodeLink?
    private var repliesToCome: Int
    /// The first error the node gave while queueing: why its `EXEC` aborts.
    private var queueError: String?

    init(exec: CrossSlotExec, group: Int, link: NodeLink?, requests: Int) {
        self.exec = exec
        self.group = group
        self.link = link
        self.repliesToCome = requests
    }

    /// The node answered the run's next request.
    func replied(_ reply: FramedReply) {
        self.repliesToCome -= 1
        guard self.repliesToCome == 0 else {
            if reply.kind == .error && self.queueError == nil {
                self.queueError = reply.lineText
            }
            if Redirect(reply: reply) != nil {
                // The slot moved: the group fails (nothing is re-sent), and the map is refreshed
                // for the next transaction.
                self.exec.slotMoved()
            }
            return
        }
        self.exec.groupReplied(self.group, reply, queueError: self.queueError)
        if let link = self.link {
            self.exec.linkIsDone(link)
        }
    }

    /// The link failed the run's next request: `mayHaveRun` when it had been sent.
    func failed(_ message: String, mayHaveRun: Bool) {
        if let link = self.link {
            self.exec.linkIsGone(link)
        }
        self.repliesToCome -= 1
        guard self.repliesToCome == 0 else { return }
        self.exec.groupDone(self.group, self.exec.failure(ofGroup: self.group, mayHaveRun: mayHaveRun, reason: message))
    }
}
