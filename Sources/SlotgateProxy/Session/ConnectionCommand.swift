//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateRESP

/// The commands that change or describe the client's own connection — `HELLO`, `AUTH`,
/// `CLIENT SETNAME/GETNAME/ID/SETINFO`, `RESET`, `READONLY`, `READWRITE` — answered by Slotgate.
///
/// They must never reach a node: node links are shared by many clients, and a `HELLO 3` or
/// `CLIENT REPLY OFF` there would change the link for everyone on it.
enum ConnectionCommand {
    /// The names ``answer(_:name:state:serverVersion:authenticator:)`` may answer (`CLIENT` only
    /// for some subcommands).
    static let names: Set<String> = ["hello", "auth", "readonly", "readwrite", "reset", "client"]

    /// The reply to `command` (lower-case name `name`) if it is a connection command; `nil` otherwise.
    static func answer(
        _ command: RESPCommand,
        name: String,
        state: inout ConnectionState,
        serverVersion: String,
        authenticator: ClientAuthenticator
    ) -> ByteBuffer? {
        let arguments = command.arguments
        var reply = ByteBuffer()
        switch name {
        case "hello":
            self.hello(arguments, state: &state, serverVersion: serverVersion, authenticator: authenticator, into: &reply)
        case "auth":
            if arguments.count < 2 || arguments.count > 3 {
                reply.writeRESPError(ProxyErrors.arity("auth"))
            } else if let error = self.authenticate(user: arguments.count == 3 ? arguments[1] : nil, password: arguments.last!, authenticator, &state)
            {
                reply.writeRESPError(error)
            } else {
                reply.writeRESPSimpleString("OK")
            }
        case "readonly", "readwrite":
            if arguments.count == 1 {
                reply.writeRESPSimpleString("OK")
            } else {
                reply.writeRESPError(ProxyErrors.arity(name))
            }
        case "reset":
            // As in Redis: no name, RESP2, and the password asked for again.
            state.name = nil
            state.usesRESP3 = false
            state.isAuthenticated = authenticator.startsAuthenticated
            state.user = "default"
            state.nodeLogin = nil
            reply.writeRESPSimpleString("RESET")
        case "client":
            guard let subcommand = ClientSubcommand(arguments) else { return nil }
            self.client(subcommand, state: &state, into: &reply)
        default:
            return nil
        }
        return reply
    }

    /// Whether ``answer(_:name:state:serverVersion:authenticator:)`` answers `command`, decided
    /// from its name and arguments alone, before anything changes.
    static func handles(_ command: RESPCommand, name: String) -> Bool {
        switch name {
        case "hello", "auth", "readonly", "readwrite", "reset": return true
        case "client": return ClientSubcommand(command.arguments) != nil
        default: return false
        }
    }

    /// `HELLO [protover [AUTH user pass] [SETNAME name]]`: RESP2 only until RESP3 arrives.
    private static func hello(
        _ arguments: [ByteBuffer],
        state: inout ConnectionState,
        serverVersion: String,
        authenticator: ClientAuthenticator,
        into reply: inout ByteBuffer
    ) {
        if arguments.count >= 2 {
            guard let version = arguments[1].redisInteger else {
                reply.writeRESPError(ProxyErrors.helloVersionNotInteger)
                return
            }
            guard version == 2 || version == 3 else {
                reply.writeRESPError(ProxyErrors.noProtocol)
                return
            }
        }
        let resp3 = arguments.count >= 2 ? arguments[1].redisInteger == 3 : state.usesRESP3
        var index = 2
        var newName = state.name
        while index < arguments.count {
            let option = String(buffer: arguments[index]).lowercased()
            if option == "auth" && index + 2 < arguments.count {
                if let error = self.authenticate(user: arguments[index + 1], password: arguments[index + 2], authenticator, &state) {
                    reply.writeRESPError(error)
                    return
                }
                index += 3
            } else if option == "setname" && index + 1 < arguments.count {
                guard let name = ClientName(arguments[index + 1]) else {
                    reply.writeRESPError(ProxyErrors.badClientName)
                    return
                }
                newName = name.value
                index += 2
            } else {
                reply.writeRESPError("ERR Syntax error in HELLO option '\(String(buffer: arguments[index]))'")
                return
            }
        }
        guard state.isAuthenticated else {
            reply.writeRESPError(ProxyErrors.helloWithoutAuth)
            return
        }
        state.name = newName
        state.usesRESP3 = resp3
        reply.writeRESPMapHeader(count: 7, resp3: resp3)
        for (field, value) in [("server", "redis"), ("version", serverVersion)] {
            reply.writeRESPBulkString(field)
            reply.writeRESPBulkString(value)
        }
        reply.writeRESPBulkString("proto")
        reply.writeRESPInteger(resp3 ? 3 : 2)
        reply.writeRESPBulkString("id")
        reply.writeRESPInteger(state.id)
        for (field, value) in [("mode", "standalone"), ("role", "master")] {
            reply.writeRESPBulkString(field)
            reply.writeRESPBulkString(value)
        }
        reply.writeRESPBulkString("modules")
        reply.writeRESPArrayHeader(count: 0)
    }

    /// Whether the command gives a password: `AUTH`, or `HELLO` with its `AUTH` option.
    static func isAuthenticationAttempt(_ command: RESPCommand, name: String) -> Bool {
        name == "auth" || (name == "hello" && command.arguments.dropFirst().contains { String(buffer: $0).lowercased() == "auth" })
    }

    /// The user (`nil` for the default user) and password a well-formed `AUTH`, or `HELLO` with
    /// its `AUTH` option, gives; `nil` for a command that gives none or that Redis would refuse
    /// before looking at the password.
    static func credentials(in command: RESPCommand, name: String) -> (user: ByteBuffer?, password: ByteBuffer)? {
        let arguments = command.arguments
        switch name {
        case "auth" where arguments.count == 2:
            return (nil, arguments[1])
        case "auth" where arguments.count == 3:
            return (arguments[1], arguments[2])
        case "hello" where arguments.count >= 2 && [2, 3].contains(arguments[1].redisInteger):
            var index = 2
            while index < arguments.count {
                switch String(buffer: arguments[index]).lowercased() {
                case "auth" where index + 2 < arguments.count:
                    return (arguments[index + 1], arguments[index + 2])
                case "setname" where index + 1 < arguments.count:
                    index += 2
                default:
                    return nil
                }
            }
            return nil
        default:
            return nil
        }
    }

    /// Checks a password; `nil` when accepted (and the client is then authenticated), else the error.
    private static func authenticate(
        user: ByteBuffer?,
        password: ByteBuffer,
        _ authenticator: ClientAuthenticator,
        _ state: inout ConnectionState
    ) -> String? {
        switch authenticator.check(user: user, password: password) {
        case .accepted(let user):
            state.isAuthenticated = true
            state.user = user
            return nil
        case .rejected:
            return ProxyErrors.wrongPassword
        case .noPasswordConfigured:
            return ProxyErrors.authWithoutPassword
        }
    }

    /// Carries out a `CLIENT` subcommand about the client's own connection.
    private static func client(_ subcommand: ClientSubcommand, state: inout ConnectionState, into reply: inout ByteBuffer) {
        switch subcommand {
        case .setName(let bytes):
            guard let name = ClientName(bytes) else {
                reply.writeRESPError(ProxyErrors.badClientName)
                return
            }
            state.name = name.value
            reply.writeRESPSimpleString("OK")
        case .getName:
            if let name = state.name {
                reply.writeRESPBulkString(name)
            } else {
                reply.writeRESPNull(resp3: state.usesRESP3)
            }
        case .id:
            reply.writeRESPInteger(state.id)
        case .acceptedHint:
            // Library names, eviction and LRU hints concern the client's own connection, which is
            // Slotgate's; they are accepted and change nothing on the shared node links.
            reply.writeRESPSimpleString("OK")
        case .reply(let mode):
            switch mode {
            case "on":
                state.replyMode = .on
                reply.writeRESPSimpleString("OK")
            case "off":
                state.replyMode = .off
            case "skip":
                state.replyMode = .skipNext
            default:
                reply.writeRESPError("ERR syntax error")
            }
        }
    }
}

/// The `CLIENT` subcommands about the client's own connection, read from the arguments.
private enum ClientSubcommand {
    case setName(ByteBuffer)
    case getName
    case id
    /// `SETINFO`, `NO-EVICT`, `NO-TOUCH`: accepted, and nothing changes.
    case acceptedHint
    /// `REPLY ON|OFF|SKIP` (lower-cased; anything else is a syntax error).
    case reply(String)

    /// `nil` for the other `CLIENT` subcommands, or a wrong number of arguments.
    init?(_ arguments: [ByteBuffer]) {
        guard arguments.count >= 2 else { return nil }
        switch String(buffer: arguments[1]).lowercased() {
        case "setname" where arguments.count == 3: self = .setName(arguments[2])
        case "getname" where arguments.count == 2: self = .getName
        case "id" where arguments.count == 2: self = .id
        case "setinfo" where arguments.count == 4, "no-evict" where arguments.count == 3, "no-touch" where arguments.count == 3:
            self = .acceptedHint
        case "reply" where arguments.count == 3: self = .reply(String(buffer: arguments[2]).lowercased())
        default: return nil
        }
    }
}

/// A client name as Redis accepts it: printable ASCII without spaces. The empty name is valid
/// and clears the name.
private struct ClientName {
    /// The name to keep; `nil` for the empty name.
    let value: String?

    /// `nil` when Redis would refuse the name.
    init?(_ bytes: ByteBuffer) {
        guard bytes.readableBytesView.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        self.value = bytes.readableBytes == 0 ? nil : String(buffer: bytes)
    }
}
