//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateRESP

/// Commands Slotgate answers itself, because they concern the client's connection to the proxy,
/// not the data: `PING`, `ECHO`, `QUIT`, `SELECT`.
enum LocalCommand {
    /// What the session should do with a local command.
    enum Answer {
        case reply(ByteBuffer)
        case replyAndClose(ByteBuffer)
    }

    /// The names ``answer(_:name:)`` answers.
    static let names: Set<String> = ["ping", "echo", "quit", "select"]

    /// The answer to `command` (whose lower-case name is `name`) if Slotgate answers it; `nil` otherwise.
    static func answer(_ command: RESPCommand, name: String) -> Answer? {
        let arguments = command.arguments
        var reply = ByteBuffer()
        switch name {
        case "ping":
            switch arguments.count {
            case 1: reply.writeRESPSimpleString("PONG")
            case 2: reply.writeRESPBulkString(arguments[1])
            default: reply.writeRESPError(ProxyErrors.arity("ping"))
            }
        case "echo":
            if arguments.count == 2 {
                reply.writeRESPBulkString(arguments[1])
            } else {
                reply.writeRESPError(ProxyErrors.arity("echo"))
            }
        case "quit":
            reply.writeRESPSimpleString("OK")
            return .replyAndClose(reply)
        case "select":
            if arguments.count != 2 {
                reply.writeRESPError(ProxyErrors.arity("select"))
            } else if let database = arguments[1].redisInteger {
                if database == 0 {
                    reply.writeRESPSimpleString("OK")
                } else {
                    reply.writeRESPError(ProxyErrors.selectInClusterMode)
                }
            } else {
                reply.writeRESPError(ProxyErrors.notAnInteger)
            }
        default:
            return nil
        }
        return .reply(reply)
    }
}
