//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateConfiguration
import SlotgateRESP

/// The admin port's RESP side, for `redis-cli -p 7778`: `PROXY INFO`, `PROXY CLUSTER`,
/// `PROXY CLIENTS`, `PROXY SLOWLOG GET [n]|LEN|RESET`, `PROXY HOTKEYS`, `PROXY CONFIG GET pattern`,
/// `PROXY CONFIG SET directive value` and `PROXY REFRESH`, plus `AUTH`, `PING` and `QUIT`.
///
/// Replies keep the order of the commands: each waits for the one before it.
final class AdminCommandHandler: ChannelInboundHandler {
    typealias InboundIn = RESPCommand
    typealias OutboundOut = ByteBuffer

    private let service: AdminService
    private var isAuthenticated: Bool
    private var previous: EventLoopFuture<Void>?

    init(service: AdminService) {
        self.service = service
        self.isAuthenticated = service.configuration.adminPassword.isEmpty
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let command = self.unwrapInboundIn(data)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let previous = self.previous ?? context.eventLoop.makeSucceededVoidFuture()
        let reply = previous.flatMap { loopBound.value.0.answer(command, context: loopBound.value.1) }.recover { error in
            var bytes = ByteBuffer()
            bytes.writeRESPError("ERR the admin port could not answer: \(error)")
            return bytes
        }
        self.previous = reply.map { bytes in
            let (_, context) = loopBound.value
            context.writeAndFlush(NIOAny(bytes), promise: nil)
            if command.lowercasedName == "quit" { context.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        var bytes = ByteBuffer()
        bytes.writeRESPError("ERR \(error)")
        context.writeAndFlush(NIOAny(bytes)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    private func answer(_ command: RESPCommand, context: ChannelHandlerContext) -> EventLoopFuture<ByteBuffer> {
        let eventLoop = context.eventLoop
        let arguments = (0..<command.arguments.count).map { command.argumentString($0) }
        let name = arguments[0].lowercased()
        var reply = ByteBuffer()
        switch name {
        case "auth":
            let given = ByteBuffer(string: arguments.last ?? "")
            let outcome = ClientAuthenticator(requirePassword: self.service.configuration.adminPassword).check(user: nil, password: given)
            self.isAuthenticated = self.isAuthenticated || outcome == .accepted(user: "default")
            outcome == .rejected ? reply.writeRESPError(ProxyErrors.wrongPassword) : reply.writeRESPSimpleString("OK")
            return eventLoop.makeSucceededFuture(reply)
        case "ping":
            reply.writeRESPSimpleString("PONG")
            return eventLoop.makeSucceededFuture(reply)
        case "quit":
            reply.writeRESPSimpleString("OK")
            return eventLoop.makeSucceededFuture(reply)
        case _ where !self.isAuthenticated:
            reply.writeRESPError(ProxyErrors.noAuth)
            return eventLoop.makeSucceededFuture(reply)
        case "proxy" where arguments.count >= 2:
            return AdminCommands.answer(Array(arguments.dropFirst()), service: self.service, on: eventLoop)
        default:
            reply.writeRESPError("ERR unknown command '\(arguments[0])' on the admin port; try PROXY INFO")
            return eventLoop.makeSucceededFuture(reply)
        }
    }
}

@available(*, unavailable)
extension AdminCommandHandler: Sendable {}
