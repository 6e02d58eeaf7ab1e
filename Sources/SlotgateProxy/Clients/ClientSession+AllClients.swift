//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateRESP

/// `CLIENT INFO`, `CLIENT LIST`, `CLIENT UNBLOCK` and `CLIENT KILL` about Slotgate's own clients,
/// gathered from every event loop. (The nodes' client lists show only Slotgate's node links, which tell a
/// client nothing.)
extension ClientSession {
    /// Answers `CLIENT INFO`, `CLIENT LIST`, `CLIENT UNBLOCK` or `CLIENT KILL`; `false` for any
    /// other command.
    func answerAboutAllClients(_ command: RESPCommand, name: String, replySlot: ReplySlot) -> Bool {
        guard name == "client", command.arguments.count >= 2 else { return false }
        let arguments = command.arguments.map { String(buffer: $0) }
        switch arguments[1].lowercased() {
        case "info" where arguments.count == 2:
            var reply = ByteBuffer()
            reply.writeRESPVerbatimText(self.infoLine + "\n", resp3: self.usesRESP3)
            replySlot.fill(reply)
        case "list" where arguments.count == 2:
            self.loop.shared.directory.gather(on: self.loop.eventLoop) { $0.clients.lines() }.assumeIsolated().whenComplete { result in
                var reply = ByteBuffer()
                let lines = (try? result.get())?.flatMap { $0 } ?? []
                reply.writeRESPVerbatimText(lines.map { $0 + "\n" }.joined(), resp3: self.usesRESP3)
                replySlot.fill(reply)
                self.loop.flush.schedule()
            }
        case "unblock" where arguments.count == 3 || arguments.count == 4:
            guard let id = Int(arguments[2]) else {
                replySlot.fillError(ProxyErrors.notAnInteger)
                return true
            }
            let mode = arguments.count == 4 ? arguments[3].uppercased() : "TIMEOUT"
            guard mode == "TIMEOUT" || mode == "ERROR" else {
                replySlot.fillError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
                return true
            }
            self.loop.shared.directory.gather(on: self.loop.eventLoop) { $0.clients.unblock(id: id, mode: mode) }.assumeIsolated().whenComplete {
                result in
                var reply = ByteBuffer()
                reply.writeRESPInteger((try? result.get())?.reduce(0, +) ?? 0)
                replySlot.fill(reply)
                self.loop.flush.schedule()
            }
        case "kill" where arguments.count >= 3:
            guard let (filter, countsKilled) = self.killFilter(Array(arguments.dropFirst(2))) else {
                replySlot.fillError("ERR syntax error")
                return true
            }
            self.loop.shared.directory.gather(on: self.loop.eventLoop) { $0.clients.kill(filter) }.assumeIsolated().whenComplete { result in
                let killed = (try? result.get())?.reduce(0, +) ?? 0
                var reply = ByteBuffer()
                if countsKilled {
                    reply.writeRESPInteger(killed)
                } else if killed > 0 {
                    reply.writeRESPSimpleString("OK")
                } else {
                    reply.writeRESPError("ERR No such client")
                }
                replySlot.fill(reply)
                self.loop.flush.schedule()
            }
        default:
            return false
        }
        return true
    }

    /// Reads `CLIENT KILL ip:port` (old form, answers OK) or `CLIENT KILL ID id | ADDR ip:port |
    /// SKIPME yes/no …` (new form, answers a count).
    private func killFilter(_ options: [String]) -> (ClientFilter, countsKilled: Bool)? {
        if options.count == 1 {
            return (ClientFilter(id: nil, address: options[0], skip: nil), false)
        }
        guard options.count % 2 == 0 else { return nil }
        var filter = ClientFilter(id: nil, address: nil, skip: self.clientID)
        for index in stride(from: 0, to: options.count, by: 2) {
            let value = options[index + 1]
            switch options[index].lowercased() {
            case "id":
                guard let id = Int(value) else { return nil }
                filter.id = id
            case "addr":
                filter.address = value
            case "skipme":
                filter.skip = value.lowercased() == "no" ? nil : self.clientID
            default:
                return nil
            }
        }
        return (filter, true)
    }
}
