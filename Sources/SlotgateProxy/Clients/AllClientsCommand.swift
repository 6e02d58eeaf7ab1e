//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateRESP

/// A `CLIENT` subcommand about Slotgate's own clients, read from its arguments: `INFO` about the
/// client asking, `LIST`, `UNBLOCK` and `KILL` about every client on every loop. (The nodes'
/// client lists show only Slotgate's node links, which tell a client nothing.)
enum AllClientsCommand {
    case info
    case list
    /// `CLIENT UNBLOCK id [TIMEOUT|ERROR]`.
    case unblock(id: Int, mode: String)
    /// `CLIENT KILL …`; `countsKilled` for the new form, which answers a count.
    case kill(ClientFilter, countsKilled: Bool)

    /// What `command` asks about every client: a command, an error to answer, or `nil` when it
    /// is not such a command. `clientID` is the asking client's (`SKIPME`).
    static func read(_ command: RESPCommand, name: String, clientID: Int) -> Result<AllClientsCommand, Refusal>? {
        guard name == "client", command.arguments.count >= 2 else { return nil }
        let arguments = command.arguments.map { String(buffer: $0) }
        switch arguments[1].lowercased() {
        case "info" where arguments.count == 2:
            return .success(.info)
        case "list" where arguments.count == 2:
            return .success(.list)
        case "unblock" where arguments.count == 3 || arguments.count == 4:
            guard let id = Int(arguments[2]) else { return .failure(Refusal(ProxyErrors.notAnInteger)) }
            let mode = arguments.count == 4 ? arguments[3].uppercased() : "TIMEOUT"
            guard mode == "TIMEOUT" || mode == "ERROR" else {
                return .failure(Refusal("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"))
            }
            return .success(.unblock(id: id, mode: mode))
        case "kill" where arguments.count >= 3:
            guard let (filter, countsKilled) = Self.killFilter(Array(arguments.dropFirst(2)), clientID: clientID) else {
                return .failure(Refusal("ERR syntax error"))
            }
            return .success(.kill(filter, countsKilled: countsKilled))
        default:
            return nil
        }
    }

    /// The error a malformed command gets.
    struct Refusal: Error {
        let message: String

        init(_ message: String) {
            self.message = message
        }
    }

    /// Reads `CLIENT KILL ip:port` (old form, answers OK) or `CLIENT KILL ID id | ADDR ip:port |
    /// SKIPME yes/no …` (new form, answers a count).
    private static func killFilter(_ options: [String], clientID: Int) -> (ClientFilter, countsKilled: Bool)? {
        if options.count == 1 {
            return (ClientFilter(id: nil, address: options[0], skip: nil), false)
        }
        guard options.count % 2 == 0 else { return nil }
        var filter = ClientFilter(id: nil, address: nil, skip: clientID)
        for index in stride(from: 0, to: options.count, by: 2) {
            let value = options[index + 1]
            switch options[index].lowercased() {
            case "id":
                guard let id = Int(value) else { return nil }
                filter.id = id
            case "addr":
                filter.address = value
            case "skipme":
                filter.skip = value.lowercased() == "no" ? nil : clientID
            default:
                return nil
            }
        }
        return (filter, true)
    }
}
