//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateRESP

/// A request's place in its client's line of replies.
///
/// Replies must reach a client in the order it sent its requests, whichever node answers first.
/// Each request gets a slot when it arrives; whoever produces the reply (a node link, the proxy
/// itself) fills the slot, and the session writes out filled slots from the front of the line.
final class ReplySlot {
    private let session: ClientSession
    private(set) var reply: ByteBuffer?
    /// Close the client connection once this reply is written (QUIT, protocol errors).
    private(set) var closesConnection = false
    /// The client turned replies off (`CLIENT REPLY OFF/SKIP`): the reply is produced but not sent.
    var isSilent = false
    /// The command answered here, for the statistics and the slow log; `nil` for a push.
    let command: RESPCommand?
    /// The command's lower-case name.
    let name: String
    /// When the command arrived.
    let startedAt: NIODeadline
    /// The path the command took, for its latency histogram.
    var commandClass = CommandClass.routed

    init(session: ClientSession, command: RESPCommand? = nil, name: String = "", startedAt: NIODeadline = .uptimeNanoseconds(0)) {
        self.session = session
        self.command = command
        self.name = name
        self.startedAt = startedAt
    }

    /// Whether the client speaks RESP3.
    var usesRESP3: Bool { self.session.usesRESP3 }

    /// Whether anyone still waits for the reply; a slot whose client left is answered into the void.
    var isAwaited: Bool { self.session.isOpen }

    /// Fills the slot with the exact bytes to send.
    func fill(_ bytes: ByteBuffer) {
        self.reply = bytes
        self.session.replyReady()
    }

    /// Fills the slot with an error; `message` starts with its code (`ERR`, `CROSSSLOT`, …).
    func fillError(_ message: String) {
        var bytes = ByteBuffer()
        bytes.writeRESPError(message)
        self.fill(bytes)
    }

    /// Fills the slot and asks for the connection to be closed after it.
    func fillAndClose(_ bytes: ByteBuffer) {
        self.closesConnection = true
        self.fill(bytes)
    }
}
