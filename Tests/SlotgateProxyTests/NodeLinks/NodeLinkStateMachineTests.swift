//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Testing

@testable import SlotgateProxy

/// Protects a node link's lifecycle: nothing is written before the connection is up, nothing of a
/// client's goes before the node accepted that client's user, setup replies never reach a client,
/// and a link ends once, remembering whether Slotgate ended it.
@Suite("NodeLinkStateMachine")
struct NodeLinkStateMachineTests {
    typealias Machine = NodeLinkStateMachine<String>

    static let plain = Machine.Setup(authenticates: false, signsInAsClient: false, switchesToRESP3: false, readsFromReplicas: false)
    static let everything = Machine.Setup(authenticates: true, signsInAsClient: false, switchesToRESP3: true, readsFromReplicas: true)
    static let clientUser = Machine.Setup(authenticates: true, signsInAsClient: true, switchesToRESP3: true, readsFromReplicas: false)

    @Test("requests wait while connecting, then go once the link is open")
    func connecting() {
        var machine = Machine()
        guard case .keepUnsent = machine.send() else { Issue.record("sent before connecting"); return }
        #expect(machine.context == nil)
        guard case .writeSetupThenUnsent("channel") = machine.connected("channel", setup: Self.plain) else {
            Issue.record("the waiting requests were not written"); return
        }
        guard case .write("channel") = machine.send() else { Issue.record("not written once open"); return }
        guard case .deliver = machine.replyReceived() else { Issue.record("a reply was not delivered"); return }
    }

    @Test("the replies to AUTH, HELLO 3 and READONLY are dropped, and only those")
    func setupReplies() {
        var machine = Machine()
        _ = machine.connected("channel", setup: Self.everything)
        for _ in 0..<3 {
            guard case .dropSetupReply = machine.replyReceived() else { Issue.record("a setup reply was delivered"); return }
        }
        guard case .deliver = machine.replyReceived() else { Issue.record("a request's reply was dropped"); return }
    }

    @Test("a link signed in as a client's user sends nothing else until the node accepts the password")
    func signInAccepted() {
        var machine = Machine()
        guard case .writeSetupAndAwaitSignIn = machine.connected("channel", setup: Self.clientUser) else {
            Issue.record("requests were written before the sign-in"); return
        }
        guard case .keepUnsent = machine.send() else { Issue.record("sent during the sign-in"); return }
        guard case .signInVerdict = machine.replyReceived() else { Issue.record("the AUTH reply was not the verdict"); return }
        guard case .writeUnsent("channel") = machine.signInAnswered(accepted: true) else { Issue.record("accepted, nothing written"); return }
        guard case .dropSetupReply = machine.replyReceived() else { Issue.record("HELLO 3's reply was delivered"); return }
        guard case .deliver = machine.replyReceived() else { Issue.record("a request's reply was dropped"); return }
    }

    @Test("a refused sign-in closes the link on purpose and nothing is sent")
    func signInRefused() {
        var machine = Machine()
        _ = machine.connected("channel", setup: Self.clientUser)
        _ = machine.replyReceived()
        guard case .failAndClose("channel") = machine.signInAnswered(accepted: false) else { Issue.record("not closed"); return }
        #expect(machine.isClosed && machine.closedOnPurpose)
        guard case .fail = machine.send() else { Issue.record("sent on a closed link"); return }
        guard case .ignore = machine.replyReceived() else { Issue.record("a late reply was not ignored"); return }
    }

    @Test("a link ends once; closing it on purpose afterwards is remembered, and a drop is not on purpose")
    func closing() {
        var dropped = Machine()
        _ = dropped.connected("channel", setup: Self.plain)
        guard case .end("channel") = dropped.close(onPurpose: false) else { Issue.record("the drop did not end the link"); return }
        #expect(dropped.isClosed && !dropped.closedOnPurpose)
        guard case .none = dropped.close(onPurpose: true) else { Issue.record("the link ended twice"); return }
        #expect(dropped.closedOnPurpose)

        var connecting = Machine()
        guard case .end(nil) = connecting.close(onPurpose: false) else { Issue.record("a failed connection did not end the link"); return }
        guard case .closeChannel("late") = connecting.connected("late", setup: Self.plain) else {
            Issue.record("a connection that came up after the close was kept"); return
        }
    }
}
