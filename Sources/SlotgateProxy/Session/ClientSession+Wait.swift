//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateRESP

/// `WAIT numreplicas timeout` (and `WAITAOF`) through Slotgate means what it means on one server:
/// it returns once the client's writes since its last `WAIT` have reached `numreplicas` replicas,
/// or at the timeout, with the count reached.
///
/// A client's writes go to several masters over links every client shares, and a node's `WAIT`
/// counts only what its own connection wrote. So Slotgate waits until every earlier command of
/// the client is answered (its writes have run), then, for each master the client wrote to, opens
/// a link of the client's own and sends a write that leaves nothing behind — a script that sets
/// and deletes a key of Slotgate's in a slot of that master, which moves the master's
/// replication offset past the client's writes — and the `WAIT` after it. The answer is the
/// smallest count among those masters. A client that wrote nothing gets the answer of any
/// master, as before. Shared links never carry a `WAIT`, so it stalls no other client.
extension ClientSession {
    /// A `WAIT` in progress.
    enum ReplicaWait {
        /// Earlier commands of the client are still out; the `WAIT` goes once they are answered.
        case awaitingEarlierReplies(RESPCommand, anyMaster: NodeAddress, ReplySlot)
        /// Out on these links of the client's own, one per master.
        case running([NodeLink])

        func holds(_ link: NodeLink) -> Bool {
            guard case .running(let links) = self else { return false }
            return links.contains { $0 === link }
        }
    }

    /// The script that moves a master's replication offset and leaves nothing: `SET` and `DEL`
    /// of its one key, replicated as one transaction.
    private static let offsetMarkScript = "redis.call('set', KEYS[1], '1') redis.call('del', KEYS[1])"

    /// A request that may write went to `node` (see ``ReplyTarget/wrote(to:)``).
    func wrote(to node: NodeAddress) {
        if self.writtenMasters.last != node && !self.writtenMasters.contains(node) {
            self.writtenMasters.append(node)
        }
    }

    /// Carries out ``CommandPlan/wait(anyMaster:)``.
    func startWait(_ command: RESPCommand, anyMaster: NodeAddress, replySlot: ReplySlot) {
        guard self.line.isFront(replySlot.sequence) else {
            self.replicaWait = .awaitingEarlierReplies(command, anyMaster: anyMaster, replySlot)
            return
        }
        self.sendWait(command, anyMaster: anyMaster, replySlot: replySlot)
    }

    /// Replies left for the client: a `WAIT` whose earlier commands are all answered goes now.
    func sendWaitIfDue() {
        guard case .awaitingEarlierReplies(let command, let anyMaster, let replySlot) = self.replicaWait,
            self.line.isFront(replySlot.sequence)
        else { return }
        self.replicaWait = nil
        self.sendWait(command, anyMaster: anyMaster, replySlot: replySlot)
    }

    private func sendWait(_ command: RESPCommand, anyMaster: NodeAddress, replySlot: ReplySlot) {
        // The marks and the WAITs themselves are writes to these masters; they count for nothing.
        defer { self.writtenMasters.removeAll() }
        let masters = self.router.view.map { view in
            self.writtenMasters.compactMap { node in Self.markKey(servedBy: node, in: view.slotMap).map { (node, $0) } }
        } ?? []
        guard !masters.isEmpty else {
            self.sendBlocking(RoutedRequest(wire: command.wire, slot: nil, target: .client(replySlot)), to: anyMaster, asking: false)
            return
        }
        var links: [NodeLink] = []
        for (master, _) in masters {
            guard let link = self.openExclusiveLink(to: master) else {
                links.forEach(self.releaseExclusiveLink)
                replySlot.fillError(ProxyErrors.exclusiveLinksExhausted(self.loop.shared.exclusiveLinks))
                return
            }
            links.append(link)
        }
        self.replicaWait = .running(links)
        let fanOut = FanOut(replySlot: replySlot, merge: .leastWaitCount, partCount: 2 * links.count)
        for (index, (link, (_, key))) in zip(links, masters).enumerated() {
            var mark = ByteBuffer()
            mark.writeRESPCommand(["EVAL", Self.offsetMarkScript, "1", key])
            link.send(RoutedRequest(wire: mark, slot: nil, target: .part(fanOut, index: 2 * index)))
            link.send(RoutedRequest(wire: command.wire, slot: nil, target: .part(fanOut, index: 2 * index + 1)))
        }
    }

    /// A key of Slotgate's own that `node` serves as a master in `slotMap`, `__slotgate_wait__{N}`
    /// for the first number N whose slot is one of that master's; `nil` when `node` masters no
    /// slot (a replica a broadcast wrote to). A master with a third of the slots takes about three
    /// tries; one with a single slot about 16,384, and the bound leaves no realistic miss.
    private static func markKey(servedBy node: NodeAddress, in slotMap: SlotMap) -> String? {
        guard slotMap.shards.contains(where: { $0.master == node }) else { return nil }
        for number in 0..<(64 * HashSlot.count) {
            let tag = String(number)
            if slotMap.master(for: HashSlot(key: tag)) == node {
                return "__slotgate_wait__{\(tag)}"
            }
        }
        return nil
    }

    /// A reply on one of the `WAIT`'s links; the link is given back once it has nothing out.
    func waitLink(_ link: NodeLink, received reply: FramedReply, for request: RoutedRequest) {
        request.target.deliver(reply)
        guard !link.hasRequestsInFlight else { return }
        self.releaseExclusiveLink(link)
        self.waitLinkDone(link)
    }

    /// One of the `WAIT`'s links dropped (its requests have their errors already).
    func waitLinkClosed(_ link: NodeLink) {
        guard self.replicaWait?.holds(link) == true else { return }
        self.waitLinkDone(link)
    }

    private func waitLinkDone(_ link: NodeLink) {
        guard case .running(var links) = self.replicaWait else { return }
        links.removeAll { $0 === link }
        guard links.isEmpty else {
            self.replicaWait = .running(links)
            return
        }
        self.replicaWait = nil
        self.runHeldCommands()
    }
}
