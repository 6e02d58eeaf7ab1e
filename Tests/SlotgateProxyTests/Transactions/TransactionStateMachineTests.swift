//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateRESP
import Testing

@testable import SlotgateProxy

/// Protects a transaction's life on its node: what Slotgate answers itself, what waits for the
/// node, what a redirect or a lost link does to it, and when it is over. No channel: links are
/// plain objects.
@Suite("TransactionStateMachine")
struct TransactionStateMachineTests {
    final class Link {}
    typealias Machine = TransactionStateMachine<Link>

    static let slot = HashSlot(rawValue: 12182)!
    static let otherSlot = HashSlot(rawValue: 7)!

    static func request(_ text: String) -> RoutedRequest {
        RoutedRequest(wire: ByteBuffer(string: text), slot: nil, target: .discard)
    }

    static func texts(_ requests: [RoutedRequest]) -> [String] {
        requests.map { String(buffer: $0.wire) }
    }

    @Test("MULTI is answered here; keyless commands wait; the first key opens the link and MULTI goes first")
    func multiThenFirstKey() throws {
        var machine = Machine()
        guard case .answerOK = machine.multi(perSlot: false) else { Issue.record("MULTI was not answered here"); return }
        #expect(machine.inMulti && machine.queuedCount == 0)
        guard case .answerQueued = machine.queueOnNode(RESPCommand(["PING"]), slot: nil) else { Issue.record("PING did not wait"); return }
        guard case .openLink(Self.slot) = machine.queueOnNode(RESPCommand(["SET", "foo", "1"]), slot: Self.slot) else {
            Issue.record("the first key did not pick the node"); return
        }
        let link = Link()
        let waiting = machine.linkOpened(link, slot: Self.slot)
        #expect(Self.texts(waiting) == [String(buffer: ProxyReplies.multiCommand), "*1\r\n$4\r\nPING\r\n"])
        guard case .send = machine.queueOnNode(RESPCommand(["SET", "foo", "1"]), slot: Self.slot) else { Issue.record("not sent"); return }
        let sentOn = machine.send(Self.request("SET"))
        #expect(sentOn === link)
        #expect(machine.queuedCount == 2 && machine.slot == Self.slot)
        #expect(!machine.accepts(slot: Self.otherSlot) && machine.accepts(slot: Self.slot) && machine.accepts(slot: nil))
        guard case .send(Self.slot) = machine.finish(isExec: true) else { Issue.record("EXEC did not go to the node"); return }
        #expect(machine.isEnding)
        let busy = machine.endIfDone(linkBusy: true)
        #expect(busy == nil, "over while the link still owes replies")
        let done = machine.endIfDone(linkBusy: false)
        let ended = try #require(done)
        #expect(ended === link && machine.isIdle)
    }

    @Test("WATCH opens the link and MULTI goes on it; EXEC or DISCARD without MULTI and nested MULTI are refused")
    func watchThenMulti() {
        var machine = Machine()
        guard case .refuse = machine.finish(isExec: true) else { Issue.record("EXEC without MULTI was taken"); return }
        guard case .openLink(Self.slot) = machine.queueOnNode(RESPCommand(["WATCH", "foo"]), slot: Self.slot) else {
            Issue.record("WATCH did not open a link"); return
        }
        let link = Link()
        let waiting = machine.linkOpened(link, slot: Self.slot)
        #expect(waiting.isEmpty)
        guard case .send = machine.queueOnNode(RESPCommand(["WATCH", "foo"]), slot: Self.slot) else { Issue.record("not sent"); return }
        #expect(!machine.inMulti && machine.link === link)
        guard case .refuse = machine.finish(isExec: false) else { Issue.record("DISCARD without MULTI was taken"); return }
        guard case .send(let on, Self.slot) = machine.multi(perSlot: false), on === link else { Issue.record("MULTI not on the watch link"); return }
        #expect(machine.watched)
        guard case .refuse(ProxyErrors.nestedMulti) = machine.multi(perSlot: false) else { Issue.record("nested MULTI taken"); return }
    }

    @Test("a refused command aborts EXEC: on the node with DISCARD, or here when nothing reached a node")
    func abortedExec() {
        var onNode = Machine()
        _ = onNode.multi(perSlot: false)
        _ = onNode.queueOnNode(RESPCommand(["SET", "a", "1"]), slot: Self.slot)
        _ = onNode.linkOpened(Link(), slot: Self.slot)
        onNode.refuse()
        guard case .abortOnNode(Self.slot) = onNode.finish(isExec: true) else { Issue.record("EXEC not aborted on the node"); return }
        #expect(onNode.isEnding)

        var here = Machine()
        _ = here.multi(perSlot: false)
        here.refuse()
        guard case .answer(.execAbortAfterErrors) = here.finish(isExec: true) else { Issue.record("EXEC not aborted here"); return }
        #expect(here.isIdle)

        var outside = Machine()
        outside.refuse()
        #expect(outside.isIdle, "a refusal outside MULTI leaves nothing behind")
    }

    @Test("an empty transaction is answered here, and one of keyless commands opens a link at EXEC")
    func emptyAndKeyless() {
        var empty = Machine()
        _ = empty.multi(perSlot: false)
        guard case .answer(.emptyArray) = empty.finish(isExec: true) else { Issue.record("empty EXEC not answered here"); return }
        var keyless = Machine()
        _ = keyless.multi(perSlot: false)
        _ = keyless.queueOnNode(RESPCommand(["PING"]), slot: nil)
        #expect(keyless.awaitsNodeForKeylessCommands)
        guard case .openLinkForKeylessCommands = keyless.finish(isExec: true) else { Issue.record("no link for the keyless commands"); return }
        _ = keyless.linkOpened(Link(), slot: nil)
        guard case .send(nil) = keyless.finish(isExec: true) else { Issue.record("EXEC not sent after the link opened"); return }
    }

    @Test("a redirect inside MULTI moves everything sent since MULTI, answered requests with their replies dropped")
    func moveOnRedirect() throws {
        var machine = Machine()
        _ = machine.multi(perSlot: false)
        _ = machine.queueOnNode(RESPCommand(["SET", "a", "1"]), slot: Self.slot)
        let old = Link()
        _ = machine.linkOpened(old, slot: Self.slot)
        _ = machine.queueOnNode(RESPCommand(["SET", "a", "1"]), slot: Self.slot)
        _ = machine.send(Self.request("SET"))
        guard case .deliver = machine.replied(on: old, redirect: nil, isError: false, maxRedirects: 5) else {
            Issue.record("MULTI's +OK not delivered"); return
        }
        let redirect = try #require(Redirect(errorText: "ASK 12182 127.0.0.1:7002"))
        guard case .move(let move) = machine.replied(on: old, redirect: redirect, isError: true, maxRedirects: 5) else {
            Issue.record("the transaction did not move"); return
        }
        #expect(move.abandon === old && machine.link == nil)
        guard case .none = machine.linkClosed(old, reason: "lost") else { Issue.record("the abandoned link broke it"); return }
        let new = Link()
        let again = machine.moved(move, to: new)
        #expect(Self.texts(again) == [String(buffer: ProxyReplies.askingCommand), String(buffer: ProxyReplies.multiCommand), "SET"])
        guard case .discard = again[1].target else { Issue.record("the answered MULTI would be answered twice"); return }
        #expect(machine.link === new && machine.inMulti)
    }

    @Test("a transaction that began with WATCH cannot move: the redirect is reported and EXEC aborts")
    func watchedRedirect() throws {
        var machine = Machine()
        _ = machine.queueOnNode(RESPCommand(["WATCH", "a"]), slot: Self.slot)
        let link = Link()
        _ = machine.linkOpened(link, slot: Self.slot)
        let redirect = try #require(Redirect(errorText: "MOVED 12182 127.0.0.1:7002"))
        guard case .deliverMoved = machine.replied(on: link, redirect: redirect, isError: true, maxRedirects: 5) else {
            Issue.record("the redirect was not reported"); return
        }
        _ = machine.multi(perSlot: false)
        guard case .abortOnNode = machine.finish(isExec: true) else { Issue.record("EXEC ran without its watch"); return }
    }

    @Test("a lost link breaks the transaction until it ends; a lost link of an ending one just ends it")
    func lostLink() throws {
        var queuing = Machine()
        _ = queuing.multi(perSlot: false)
        _ = queuing.queueOnNode(RESPCommand(["SET", "a", "1"]), slot: Self.slot)
        let link = Link()
        _ = queuing.linkOpened(link, slot: Self.slot)
        guard case .none = queuing.linkClosed(Link(), reason: "other") else { Issue.record("another link broke it"); return }
        _ = queuing.linkClosed(link, reason: "lost")
        #expect(queuing.brokenReason == "lost" && queuing.inMulti)
        guard case .answer(.execAbort("lost")) = queuing.finish(isExec: true) else { Issue.record("EXEC not aborted"); return }
        #expect(queuing.isIdle)

        var watching = Machine()
        _ = watching.queueOnNode(RESPCommand(["WATCH", "a"]), slot: Self.slot)
        _ = watching.linkOpened(link, slot: Self.slot)
        _ = watching.linkClosed(link, reason: "lost")
        guard case .answerOK = watching.multi(perSlot: false) else { Issue.record("MULTI after a break not answered"); return }
        guard case .answer(.error("lost")) = watching.finish(isExec: false) else { Issue.record("DISCARD not told of the break"); return }

        var ending = Machine()
        _ = ending.queueOnNode(RESPCommand(["WATCH", "a"]), slot: Self.slot)
        _ = ending.linkOpened(link, slot: Self.slot)
        guard case .send = ending.unwatch() else { Issue.record("UNWATCH not sent"); return }
        guard case .checkEnd = ending.linkClosed(link, reason: "lost") else { Issue.record("the end was not checked"); return }
        let done = ending.endIfDone(linkBusy: false)
        let ended = try #require(done)
        #expect(ended == nil && ending.isIdle)
    }

    @Test("per-slot: other slots wait in Slotgate, a split command goes partly on the link, RESET drops it all")
    func perSlot() {
        var machine = Machine()
        _ = machine.multi(perSlot: true)
        guard case .onLink = machine.perSlotStep(slot: Self.slot, spansSlots: false, splits: false) else {
            Issue.record("the first key did not pick the link"); return
        }
        _ = machine.queueOnNode(RESPCommand(["SET", "a", "1"]), slot: Self.slot)
        let link = Link()
        _ = machine.linkOpened(link, slot: Self.slot)
        _ = machine.queueOnNode(RESPCommand(["SET", "a", "1"]), slot: Self.slot)
        guard case .keep(Self.otherSlot) = machine.perSlotStep(slot: Self.otherSlot, spansSlots: false, splits: false) else {
            Issue.record("another slot's command went on the link"); return
        }
        machine.keep(ByteBuffer(string: "SET b 1"), for: Self.otherSlot)
        guard case .split = machine.perSlotStep(slot: Self.slot, spansSlots: true, splits: true) else { Issue.record("not split"); return }
        guard case .onLink = machine.perSlotStep(slot: Self.slot, spansSlots: true, splits: false) else {
            Issue.record("an unsplittable command was taken apart"); return
        }
        let onLink = machine.queueSplit(
            [(ByteBuffer(string: "DEL a"), Self.slot), (ByteBuffer(string: "DEL b"), Self.otherSlot)],
            merge: .sum
        )
        #expect(onLink.count == 1 && onLink[0].0 === link)
        #expect(machine.queuedCount == 3)
        guard case .execBySlot(let queue) = machine.finish(isExec: true) else { Issue.record("EXEC did not run by slot"); return }
        #expect(queue.commandCount(ofGroup: 0) == 2 && queue.commandCount(ofGroup: 1) == 2 && queue.entries.count == 3)
        let closing = machine.reset()
        #expect(closing === link && machine.isIdle)
    }
}
