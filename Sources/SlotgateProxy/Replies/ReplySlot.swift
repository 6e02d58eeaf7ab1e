//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateRESP

/// A request's place in its client's line of replies: the session and the request's number in
/// that line.
///
/// Replies must reach a client in the order it sent its requests, whichever node answers first.
/// Each request gets a place in the session's ``ReplyLine`` when it arrives; whoever produces the
/// reply (a node link, the proxy itself) fills the place through this handle, and the session
/// writes out filled places from the front of the line. The handle is a plain value, so a request
/// costs no allocation of its own.
struct ReplySlot {
    let session: ClientSession
    let sequence: Int

    /// Whether the client speaks RESP3.
    var usesRESP3: Bool { self.session.usesRESP3 }
    /// The user the client's commands travel as.
    var nodeLogin: NodeLogins.ID { self.session.nodeLogin }

    /// Whether anyone still waits for the reply; a slot whose client left is answered into the void.
    var isAwaited: Bool { self.session.lifecycle.isOpen }

    /// The path the command took, for its latency histogram.
    var commandClass: CommandClass {
        get { self.session.line[self.sequence]?.commandClass ?? .routed }
        nonmutating set { self.session.line.update(self.sequence) { $0.commandClass = newValue } }
    }

    /// The client turned replies off (`CLIENT REPLY OFF/SKIP`): the reply is produced but not sent.
    func silence() {
        self.session.line.update(self.sequence) { $0.isSilent = true }
    }

    /// Fills the slot with the exact bytes to send.
    func fill(_ bytes: ByteBuffer) {
        self.session.fill(self.sequence, with: bytes)
    }

    /// Fills the slot with an error; `message` starts with its code (`ERR`, `CROSSSLOT`, …).
    func fillError(_ message: String) {
        var bytes = ByteBuffer()
        bytes.writeRESPError(message)
        self.fill(bytes)
    }

    /// Fills the slot and asks for the connection to be closed after it.
    func fillAndClose(_ bytes: ByteBuffer) {
        self.session.line.update(self.sequence) { $0.closesConnection = true }
        self.fill(bytes)
    }
}
