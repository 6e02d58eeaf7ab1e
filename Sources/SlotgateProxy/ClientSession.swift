//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateRESP

/// One client connection: takes its decoded commands, hands them to the loop's router, and writes
/// the replies back strictly in request order.
///
/// Every command gets a ``ReplySlot`` at the back of the line; filled slots leave from the front.
/// Writes are not flushed one by one: the router flushes each touched session once per read burst.
/// A protocol error from the decoder is answered in line, after the replies owed before it, and
/// then the connection is closed, as Redis does.
final class ClientSession: ChannelInboundHandler {
    typealias InboundIn = RESPCommand
    typealias OutboundOut = ByteBuffer

    private let router: LoopRouter
    private var context: ChannelHandlerContext?
    private var line = CircularBuffer<ReplySlot>(initialCapacity: 16)
    private var awaitsFlush = false
    private var outbound = OutboundBatch()
    private var connection = ConnectionState()
    /// No more commands are taken once a QUIT or a protocol error is in line.
    private var acceptsCommands = true
    /// `false` once the connection is gone or closing; late replies are then dropped.
    private(set) var isOpen = true

    init(router: LoopRouter) {
        self.router = router
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard self.acceptsCommands else { return }
        let command = self.unwrapInboundIn(data)
        let slot = ReplySlot(session: self)
        self.line.append(slot)
        let name = command.lowercasedName
        switch LocalCommand.answer(command, name: name) {
        case .reply(let bytes):
            slot.fill(bytes)
        case .replyAndClose(let bytes):
            self.acceptsCommands = false
            slot.fillAndClose(bytes)
        case nil:
            if let reply = ConnectionCommand.answer(command, name: name, state: &self.connection, serverVersion: self.router.serverVersion) {
                slot.fill(reply)
            } else {
                self.router.dispatch(command, name: name, replySlot: slot)
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.router.scheduleFlush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.isOpen = false
        self.line.removeAll()
        self.context = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let protocolError = error as? RESPProtocolError, self.acceptsCommands else {
            context.close(promise: nil)
            return
        }
        self.acceptsCommands = false
        let slot = ReplySlot(session: self)
        self.line.append(slot)
        var bytes = ByteBuffer()
        bytes.writeRESPError(ProxyErrors.protocolError(protocolError))
        slot.fillAndClose(bytes)
        self.router.scheduleFlush()
    }

    /// Writes out the replies at the front of the line that are ready.
    func replyReady() {
        guard self.isOpen, let context = self.context else { return }
        while let head = self.line.first, let reply = head.reply {
            self.line.removeFirst()
            self.outbound.write(reply, to: context)
            if head.closesConnection {
                self.isOpen = false
                self.line.removeAll()
                self.outbound.flush(context)
                // The empty write completes after every write before it: then close.
                context.writeAndFlush(self.wrapOutboundOut(ByteBuffer())).assumeIsolated().whenComplete { _ in
                    context.close(promise: nil)
                }
                return
            }
        }
        if !self.awaitsFlush {
            self.awaitsFlush = true
            self.router.sessionAwaitsFlush(self)
        }
    }

    /// Sends what was written since the last flush.
    func flush() {
        self.awaitsFlush = false
        if let context = self.context {
            self.outbound.flush(context)
        }
    }
}

@available(*, unavailable)
extension ClientSession: Sendable {}
