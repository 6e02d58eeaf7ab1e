//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateRESP

/// Signing in under `acl-mode passthrough`: the cluster, not Slotgate, checks the user and
/// password a client gives with `AUTH` or `HELLO … AUTH` (see ``PassthroughSignIn``). Once it
/// accepts them, the client's commands travel on node links that signed in as that user, shared
/// with every client of the loop signed in the same way, so the nodes' own ACLs judge them.
extension ClientSession {
    /// Has the cluster check the user and password `command` gives (`credentials`, read by the
    /// planner; a malformed command that gives none is answered by Slotgate as Redis would).
    func signInThroughCluster(_ command: RESPCommand, name: String, credentials: (user: ByteBuffer?, password: ByteBuffer), replySlot: ReplySlot) {
        guard let node = self.router.master(for: nil) else {
            replySlot.fillError(ProxyErrors.slotNotServed)
            return
        }
        let signIn = PassthroughSignIn(
            session: self,
            command: command,
            name: name,
            replySlot: replySlot,
            authCommand: NodeLogins.authCommand(user: credentials.user, password: credentials.password)
        )
        self.passthroughSignIn = signIn
        signIn.start(at: node)
    }

    /// The cluster's verdict on `signIn`: on `+OK` the command is answered as Slotgate answers
    /// it, and the client travels as the user from now on; otherwise the client gets the node's
    /// error. Then the commands that waited run.
    func signIn(_ signIn: PassthroughSignIn, concluded verdict: FramedReply) {
        guard self.passthroughSignIn === signIn else { return }
        self.passthroughSignIn = nil
        if verdict.kind == .error {
            if verdict.isError(startingWith: "WRONGPASS") {
                self.loop.shared.authFailures.recordFailure(from: self.clientHost, now: self.loop.now)
            }
            signIn.replySlot.fill(verdict.bytes)
        } else {
            let login = self.loop.links.login(signingInWith: signIn.authCommand)
            self.answerConnectionCommand(signIn.command, name: signIn.name, replySlot: signIn.replySlot, signingInAs: login)
        }
        self.runHeldCommands()
    }
}
