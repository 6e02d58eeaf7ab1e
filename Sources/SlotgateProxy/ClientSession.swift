//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateRESP

/// One client connection: takes its decoded commands, hands them to the loop's router (or, for
/// transactions and blocking commands, to a node link of its own), and writes the replies back
/// strictly in request order.
///
/// Every command gets a ``ReplySlot`` at the back of the line; filled slots leave from the front.
/// Writes are not flushed one by one: the router flushes each touched session once per loop turn.
/// A protocol error from the decoder is answered in line, after the replies owed before it, and
/// then the connection is closed, as Redis does.
final class ClientSession: ChannelInboundHandler {
    typealias InboundIn = RESPCommand
    typealias OutboundOut = ByteBuffer

    let router: LoopRouter
    private(set) var context: ChannelHandlerContext?
    private(set) var line = CircularBuffer<ReplySlot>(initialCapacity: 16)
    private var awaitsFlush = false
    private var outbound = OutboundBatch()
    private var connection: ConnectionState
    /// No more commands are taken once a QUIT or a protocol error is in line.
    var acceptsCommands = true
    /// `false` once the connection is gone or closing; late replies are then dropped.
    var isOpen = true
    /// Reading is paused because replies pile up: the client sends faster than it reads.
    private var readingPaused = false
    /// Shutting down: close as soon as every owed reply is written.
    private var closesWhenAnswered = false
    private var isDraining = false

    /// Replies owed (in line or unwritten) past which Slotgate stops reading the client, and
    /// below which it reads again: memory per client stays bounded whatever it pipelines.
    private static let pauseReadingAt = 16_384
    private static let resumeReadingAt = 4_096

    /// The transaction in progress, from `WATCH`/`MULTI` to its end (see `ClientSession+Transaction`).
    var transaction: TransactionState?
    /// The client's own link while a blocking command waits on it (see `ClientSession+Blocking`).
    var blockingLink: NodeLink?
    /// Commands that arrived while a blocking command was out or a command was parked; they run,
    /// in order, after it.
    var heldCommands = CircularBuffer<RESPCommand>()
    /// A command waiting for its unreachable node (see `ClientSession+Parking`).
    var parked: ParkedCommand?
    /// While a parked command is tried again: when its hold runs out.
    var parkDeadline: NIODeadline?
    /// The command being handled now and its reply slot, for parking it.
    private(set) var handling: (command: RESPCommand, replySlot: ReplySlot)?

    /// Whether new commands must wait behind a blocking or parked one.
    var holdsCommands: Bool { self.blockingLink != nil || self.parked != nil }
    /// Node links this client holds to itself now (transaction, blocking, subscriber links).
    var exclusiveLinkCount = 0
    /// Channels, patterns and subscriber links while subscribed (see `ClientSession+PubSub`).
    var subscriptions: SubscriptionState?

    init(router: LoopRouter) {
        self.router = router
        self.connection = ConnectionState(isAuthenticated: router.authenticator.password == nil)
    }

    /// Counted in `maxclients`; released when the connection goes.
    var admitted = false
    /// When the client last sent a command, for the idle `timeout`.
    private(set) var lastCommandAt = NIODeadline.now()

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.connection.remoteAddress = context.channel.remoteAddress.map(Self.describe) ?? "?"
        self.connection.localAddress = context.channel.localAddress.map(Self.describe) ?? "?"
    }

    var clientID: Int { self.connection.id }
    var usesRESP3: Bool { self.connection.usesRESP3 }
    var remoteAddress: String { self.connection.remoteAddress }
    var infoLine: String { self.connection.infoLine }

    /// Closes the connection (`CLIENT KILL`).
    func close() {
        self.context?.close(promise: nil)
    }

    /// Shutting down: takes no more commands, and closes once the replies it owes are written.
    func drain() {
        guard let context = self.context, !self.isDraining else { return }
        self.isDraining = true
        self.acceptsCommands = false
        self.heldCommands.removeAll()
        if self.line.isEmpty {
            self.finishDraining(context)
        } else {
            self.setReading(false, context: context)
            self.closesWhenAnswered = true
        }
    }

    /// Everything owed is written: send FIN and keep reading (and dropping) what the client still
    /// sends until it closes too. Closing with unread bytes would send a reset instead, and a
    /// reset makes the client's kernel drop replies it has not read yet.
    private func finishDraining(_ context: ChannelHandlerContext) {
        self.closesWhenAnswered = false
        self.outbound.flush(context)
        context.close(mode: .output).assumeIsolated().whenFailure { _ in context.close(promise: nil) }
        self.setReading(true, context: context)
    }

    /// `ip:port`, as Redis writes addresses in `CLIENT INFO`.
    private static func describe(_ address: SocketAddress) -> String {
        "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard self.acceptsCommands else { return }
        let command = self.unwrapInboundIn(data)
        self.router.stats.bytesIn += command.wire.readableBytes
        if self.holdsCommands {
            self.heldCommands.append(command)
        } else {
            self.handle(command)
        }
        if self.line.count + self.heldCommands.count >= Self.pauseReadingAt {
            self.setReading(false, context: context)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // A client that does not read its replies is not read either.
        self.setReading(context.channel.isWritable && self.line.count < Self.resumeReadingAt, context: context)
        context.fireChannelWritabilityChanged()
    }

    private func setReading(_ reading: Bool, context: ChannelHandlerContext) {
        guard self.readingPaused == reading else { return }
        self.readingPaused = !reading
        context.channel.setOption(.autoRead, value: reading).whenFailure { _ in }
        if reading {
            context.read()
        }
    }

    /// Runs one command: gives it its place in the reply line and decides who answers it.
    func handle(_ command: RESPCommand) {
        let slot = ReplySlot(session: self, command: command, name: command.lowercasedName, startedAt: .now())
        self.lastCommandAt = slot.startedAt
        self.line.append(slot)
        self.process(command, replySlot: slot)
    }

    /// Decides who answers a command that has its place in the line.
    func process(_ command: RESPCommand, replySlot slot: ReplySlot) {
        self.handling = (command, slot)
        defer { self.handling = nil }
        let name = slot.name
        if self.connection.replyMode != .on {
            // `CLIENT REPLY ON` is answered even while replies are off.
            slot.isSilent = !(name == "client" && command.arguments.count == 3 && command.argumentString(2).lowercased() == "on")
            if self.connection.replyMode == .skipNext { self.connection.replyMode = .on }
        }
        guard self.connection.isAuthenticated || ["auth", "hello", "quit"].contains(name) else {
            slot.fillError(ProxyErrors.noAuth)
            return
        }
        if self.transaction != nil || TransactionState.commands.contains(name) {
            slot.commandClass = .transaction
            if self.handleTransactional(command, name: name, replySlot: slot) { return }
            slot.commandClass = .routed
        }
        slot.commandClass = .pubsub
        if self.handlePubSub(command, name: name, replySlot: slot) { return }
        slot.commandClass = .local
        switch LocalCommand.answer(command, name: name) {
        case .reply(let bytes):
            slot.fill(bytes)
        case .replyAndClose(let bytes):
            self.acceptsCommands = false
            slot.fillAndClose(bytes)
        case nil:
            if let reply = ConnectionCommand.answer(
                command,
                name: name,
                state: &self.connection,
                serverVersion: self.router.serverVersion,
                authenticator: self.router.authenticator
            ) {
                slot.fill(reply)
            } else if self.answerAboutAllClients(command, name: name, replySlot: slot) {
                return
            } else {
                switch self.router.resolve(command) {
                case .rejected(let message):
                    slot.fillError(message)
                case .command(let spec, let keys):
                    slot.commandClass = .blocking
                    if !self.startBlocking(command, spec: spec, keys: keys, replySlot: slot) {
                        slot.commandClass = .routed
                        self.router.dispatch(command, spec: spec, keys: keys, replySlot: slot)
                    }
                }
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.router.scheduleFlush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if self.admitted {
            self.admitted = false
            self.router.releaseClient()
        }
        self.isOpen = false
        self.router.sessionClosed(self)
        self.line.removeAll()
        self.heldCommands.removeAll()
        self.parked = nil
        self.context = nil
        // The node frees a blocked or transaction link only when it closes.
        self.transaction?.link?.close()
        self.blockingLink?.close()
        self.subscriptions?.links.forEach { $0.close() }
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

    /// Puts bytes the client did not ask for (a pub/sub message) in line, after what is owed.
    func push(_ bytes: ByteBuffer) {
        let slot = ReplySlot(session: self)
        self.line.append(slot)
        slot.fill(bytes)
    }

    /// Writes out the replies at the front of the line that are ready.
    func replyReady() {
        guard self.isOpen, let context = self.context else { return }
        var now: NIODeadline?
        while let head = self.line.first, let reply = head.reply {
            self.line.removeFirst()
            if !head.isSilent {
                self.outbound.write(reply, to: context)
                self.router.stats.bytesOut += reply.readableBytes
            }
            if head.command != nil {
                now = now ?? .now()
                self.router.answered(head, reply: reply, at: now!, client: self.connection.remoteAddress)
            }
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
        if self.closesWhenAnswered && self.line.isEmpty {
            self.finishDraining(context)
            return
        }
        if !self.awaitsFlush {
            self.awaitsFlush = true
            self.router.sessionAwaitsFlush(self)
        }
        if self.readingPaused && self.line.count < Self.resumeReadingAt && context.channel.isWritable {
            self.setReading(true, context: context)
        }
    }

    /// Sends what was written since the last flush, then checks the client reads its replies.
    func flush() {
        self.awaitsFlush = false
        if let context = self.context {
            self.outbound.flush(context)
            self.enforceOutputLimit(self.router.settings.clientOutputBufferLimit, context: context)
        }
    }
}

@available(*, unavailable)
extension ClientSession: Sendable {}
