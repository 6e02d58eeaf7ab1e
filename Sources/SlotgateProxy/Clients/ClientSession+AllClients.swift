//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateRESP

/// `CLIENT INFO`, `CLIENT LIST`, `CLIENT UNBLOCK` and `CLIENT KILL` (see ``AllClientsCommand``),
/// carried out for the client asking: every loop is asked, the answers gathered on this one.
extension ClientSession {
    func answerAboutAllClients(_ about: AllClientsCommand, replySlot: ReplySlot) {
        let directory = self.loop.shared.directory
        let eventLoop = self.loop.eventLoop
        switch about {
        case .info:
            var reply = ByteBuffer()
            reply.writeRESPVerbatimText(self.infoLine + "\n", resp3: self.usesRESP3)
            replySlot.fill(reply)
        case .list:
            directory.gather(on: eventLoop) { $0.clients.lines() }.assumeIsolated().whenComplete { result in
                var reply = ByteBuffer()
                let lines = (try? result.get())?.flatMap { $0 } ?? []
                reply.writeRESPVerbatimText(lines.map { $0 + "\n" }.joined(), resp3: self.usesRESP3)
                self.fillGathered(replySlot, reply)
            }
        case .unblock(let id, let mode):
            directory.gather(on: eventLoop) { $0.clients.unblock(id: id, mode: mode) }.assumeIsolated().whenComplete { result in
                var reply = ByteBuffer()
                reply.writeRESPInteger((try? result.get())?.reduce(0, +) ?? 0)
                self.fillGathered(replySlot, reply)
            }
        case .kill(let filter, let countsKilled):
            directory.gather(on: eventLoop) { $0.clients.kill(filter) }.assumeIsolated().whenComplete { result in
                let killed = (try? result.get())?.reduce(0, +) ?? 0
                var reply = ByteBuffer()
                if countsKilled {
                    reply.writeRESPInteger(killed)
                } else if killed > 0 {
                    reply.writeRESPSimpleString("OK")
                } else {
                    reply.writeRESPError("ERR No such client")
                }
                self.fillGathered(replySlot, reply)
            }
        }
    }

    /// An answer gathered from every loop, back on this one: it goes out at the end of the turn.
    private func fillGathered(_ replySlot: ReplySlot, _ reply: ByteBuffer) {
        replySlot.fill(reply)
        self.loop.flush.schedule()
    }
}
