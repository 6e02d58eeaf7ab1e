//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import DequeModule
import NIOCore
import SlotgateCluster
import SlotgateRESP

/// One client connection: cuts its bytes into requests, has the loop's router plan each one (see
/// ``CommandPlanner``) and carries the plan out — on the loop's shared node links, or, for
/// transactions, blocking commands and subscriptions, on node links of its own — and writes the
/// replies back strictly in request order.
///
/// Every request gets a place at the back of the ``ReplyLine``; filled places leave from the
/// front. Most requests take the fast path (see `ClientSession+FastPath`): straight to a shared
/// node link, with no allocation of their own. Writes are not flushed one by one: the loop's
/// ``TurnFlush`` flushes each touched session once per loop turn. A protocol error is answered in line, after
/// the replies owed before it, and then the connection is closed, as Redis does.
package final class ClientSession: ChannelInboundHandler {
    package typealias InboundIn = ByteBuffer
    package typealias OutboundOut = ByteBuffer

    /// The event loop's parts this client uses; the loop outlives its sessions.
    let loop: ProxyLoop
    /// The loop's router, kept at hand for the hot path.
    let router: LoopRouter
    /// The user commands travel as until the client signs in through the cluster (see ``nodeLogin``).
    private let defaultLogin: NodeLogins.ID
    private(set) var context: ChannelHandlerContext?
    var line = ReplyLine()
    private(set) var input: RequestAssembler
    private var awaitsFlush = false
    private var outbound = OutboundBatch()
    private(set) var connection: ConnectionState
    /// Where the connection is in its life, and whether it is read (see ``SessionStateMachine``).
    var lifecycle = SessionStateMachine()

    /// Replies owed (in line or unwritten) past which Slotgate stops reading the client, and
    /// below which it reads again: memory per client stays bounded whatever it pipelines.
    private static let pauseReadingAt = 16_384
    private static let resumeReadingAt = 4_096

    /// The transaction in progress, from `WATCH`/`MULTI` to its end (see `ClientSession+Transaction`).
    var transaction = TransactionStateMachine<NodeLink>()
    /// The client's own link while a blocking command waits on it (see `ClientSession+Blocking`).
    var blockingLink: NodeLink?
    /// Commands that arrived while a blocking command was out or a command was parked; they run,
    /// in order, after it.
    var heldCommands = Deque<RESPCommand>()
    /// The masters this client sent writes to since its last `WAIT`, and the `WAIT` in progress
    /// (see `ClientSession+Wait`).
    var writtenMasters: [NodeAddress] = []
    var replicaWait: ReplicaWait?
    /// A command waiting for its unreachable node (see `ClientSession+Parking`).
    var parked: ParkedCommand?
    /// While a parked command is tried again: when its hold runs out.
    var parkDeadline: NIODeadline?
    /// The command being handled now and its reply slot, for parking it.
    private(set) var handling: (command: RESPCommand, replySlot: ReplySlot)?
    /// For `CLIENT LIST`: when the client connected, the catalog place of its latest command,
    /// and that command's lower-case subcommand when it has subcommands (such commands never
    /// take the fast path, so ``process(_:replySlot:)`` records it).
    let connectedAt = NIODeadline.now()
    private(set) var latestStatIndex: Int32 = -1
    private(set) var latestSubcommand = ""

    /// Whether new commands must wait behind a blocking or parked one, or behind the end of a
    /// transaction (whose link the next `MULTI` or `WATCH` may take from the pool).
    var holdsCommands: Bool {
        self.blockingLink != nil || self.parked != nil || self.transaction.isEnding || self.passthroughSignIn != nil || self.replicaWait != nil
    }
    /// Node links this client holds to itself now (transaction, blocking, subscriber links).
    var exclusiveLinkCount = 0
    /// Channels, patterns and subscriber links while subscribed (see `ClientSession+PubSub`).
    var subscriptions: SubscriptionState?
    /// A password the cluster is checking (`acl-mode passthrough`); later commands wait for it.
    var passthroughSignIn: PassthroughSignIn?

    package init(loop: ProxyLoop, limits: RESPRequestLimits) {
        self.loop = loop
        self.router = loop.router
        self.defaultLogin = loop.links.clientsDefaultLogin
        self.input = RequestAssembler(limits: limits)
        self.connection = ConnectionState(isAuthenticated: loop.settings.authenticator.startsAuthenticated)
    }
    /// When the client last sent a command, for the idle `timeout`.
    private(set) var lastCommandAt = NIODeadline.now()

    package func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.connection.remoteAddress = context.channel.remoteAddress.map(Self.describe) ?? "?"
        self.connection.localAddress = context.channel.localAddress.map(Self.describe) ?? "?"
    }

    var clientID: Int { self.connection.id }
    var usesRESP3: Bool { self.connection.usesRESP3 }
    /// The user the client's commands travel as: the one it signed in as through the cluster
    /// (`acl-mode passthrough`), else the loop's default (see ``NodeLinks/clientsDefaultLogin``).
    var nodeLogin: NodeLogins.ID { self.connection.nodeLogin ?? self.defaultLogin }
    var remoteAddress: String { self.connection.remoteAddress }

    /// The client's IP address, without the port: what `auth-failure-limit` counts by.
    var clientHost: Substring {
        self.remoteAddress.lastIndex(of: ":").map { self.remoteAddress[..<$0] } ?? self.remoteAddress[...]
    }

    /// Closes the connection (`CLIENT KILL`).
    func close() {
        self.context?.close(promise: nil)
    }

    /// Shutting down: takes no more commands, and closes once the replies it owes are written.
    func drain() {
        guard let context = self.context else { return }
        switch self.lifecycle.drain(lineIsEmpty: self.line.isEmpty) {
        case .closeOutput:
            self.heldCommands.removeAll()
            self.closeOutput(context)
        case .pauseReadingAndWait:
            self.heldCommands.removeAll()
            self.setReading(false, context: context)
        case .none:
            break
        }
    }

    /// Everything owed is written: send FIN and keep reading (and dropping) what the client still
    /// sends until it closes too. Closing with unread bytes would send a reset instead, and a
    /// reset makes the client's kernel drop replies it has not read yet.
    private func closeOutput(_ context: ChannelHandlerContext) {
        self.outbound.flush(context)
        context.close(mode: .output).assumeIsolated().whenFailure { _ in context.close(promise: nil) }
        self.setReading(true, context: context)
    }

    /// `ip:port`, as Redis writes addresses in `CLIENT INFO`.
    private static func describe(_ address: SocketAddress) -> String {
        "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = self.unwrapInboundIn(data)
        self.loop.noteTime()
        self.loop.stats.bytesIn += bytes.readableBytes
        guard self.lifecycle.acceptsCommands else { return }
        self.input.append(bytes)
        do {
            while self.lifecycle.acceptsCommands, let request = try self.input.next() {
                self.take(request)
            }
        } catch {
            self.answerProtocolError(error)
        }
        if self.line.count + self.heldCommands.count >= Self.pauseReadingAt {
            self.setReading(false, context: context)
        }
    }

    /// One request from the client: on the fast path when it can, else as a command of its own.
    private func take(_ request: RESPRequest) {
        if self.holdsCommands {
            self.heldCommands.append(request.command)
            return
        }
        let entry = self.router.catalog.flatMap { catalog in request.withArgument(0) { catalog.entry(named: $0) } }
        if let entry, self.isPlain {
            if entry.isFastRoutable && self.routeFast(request, entry) { return }
            if entry.split != nil && self.splitFast(request, entry) { return }
        }
        self.handle(request.command, statIndex: entry?.statIndex)
    }

    /// Names the session answers or handles itself before anything is routed: transactions,
    /// subscriptions, local and connection commands. They never take the fast path.
    static let handledNames: Set<String> = ClientSession.transactionCommands.union(ClientSession.subscriptionCommands).union(LocalCommand.names)
        .union(ConnectionCommand.names)

    /// Whether the client is in no state that changes what its commands mean: signed in, replies
    /// on, no transaction, not subscribed, no ACL to check its commands against, and travelling as
    /// Slotgate's own user.
    private var isPlain: Bool {
        self.connection.isAuthenticated && self.connection.replyMode == .on && self.transaction.isIdle && self.subscriptions == nil
            && !self.loop.settings.authenticator.enforcesACL && self.nodeLogin == NodeLogins.slotgate
    }

    package func channelWritabilityChanged(context: ChannelHandlerContext) {
        // A client that does not read its replies is not read either.
        self.setReading(context.channel.isWritable && self.line.count < Self.resumeReadingAt, context: context)
        context.fireChannelWritabilityChanged()
    }

    private func setReading(_ reading: Bool, context: ChannelHandlerContext) {
        guard self.lifecycle.setReading(reading ? .reading : .paused) else { return }
        context.channel.setOption(.autoRead, value: reading).whenFailure { _ in }
        if reading {
            context.read()
        }
    }

    /// Gives a request its place at the back of the line; returns its slot.
    func enterLine(_ request: ByteBuffer, statIndex: Int?) -> ReplySlot {
        self.lastCommandAt = self.loop.now
        self.latestStatIndex = Int32(statIndex ?? -1)
        let sequence = self.line.append(
            ReplyLine.Entry(request: request, statIndex: Int32(statIndex ?? -1), startedAt: self.loop.now)
        )
        return ReplySlot(session: self, sequence: sequence)
    }

    /// Runs one command: gives it its place in the reply line and decides who answers it.
    /// `statIndex` is its place in the catalog, when known.
    func handle(_ command: RESPCommand, statIndex: Int? = nil) {
        let index =
            statIndex
            ?? self.router.catalog.flatMap { catalog in command.arguments[0].withUnsafeReadableBytes { catalog.entry(named: $0) } }?.statIndex
        self.process(command, replySlot: self.enterLine(command.wire, statIndex: index))
    }

    /// Runs a command that has its place in the line: the router plans its way (see
    /// ``CommandPlanner``), and the session carries the plan out.
    func process(_ command: RESPCommand, replySlot slot: ReplySlot) {
        self.handling = (command, slot)
        defer { self.handling = nil }
        let name = command.lowercasedName
        if command.arguments.count > 1, let catalog = self.router.catalog, self.latestStatIndex >= 0,
            !catalog.entries[Int(self.latestStatIndex)].spec.subcommands.isEmpty
        {
            self.latestSubcommand = command.argumentString(1).lowercased()
        }
        if self.connection.replyMode != .on {
            // `CLIENT REPLY ON` is answered even while replies are off, and so are subscription
            // commands: Redis sends their confirmations, like the messages, whatever the reply mode.
            let pushes = Self.subscriptionCommands.contains(name)
            if !pushes && !(name == "client" && command.arguments.count == 3 && command.argumentString(2).lowercased() == "on") {
                slot.silence()
            }
            if self.connection.replyMode == .skipNext { self.connection.replyMode = .on }
        }
        if !self.connection.isAuthenticated && self.router.admitsAnonymousClients {
            self.connection.isAuthenticated = true
        }
        let plan = self.router.plan(command, name: name, session: self.planningFacts)
        slot.commandClass = plan.commandClass
        self.carryOut(plan, command, name: name, replySlot: slot)
    }

    /// What the client is in the middle of, for the planner.
    private var planningFacts: CommandPlanner.SessionFacts {
        CommandPlanner.SessionFacts(
            isAuthenticated: self.connection.isAuthenticated,
            user: self.connection.user,
            usesRESP3: self.usesRESP3,
            inTransaction: !self.transaction.isIdle,
            inMulti: self.transaction.inMulti,
            isSubscribed: self.subscriptions?.isSubscribed == true,
            hasSubscriberLinks: self.subscriptions?.hasLinks == true,
            clientID: self.clientID,
            parkDeadline: self.parkDeadline
        )
    }

    private func carryOut(_ plan: CommandPlan, _ command: RESPCommand, name: String, replySlot slot: ReplySlot) {
        switch plan {
        case .answer(let bytes, _):
            slot.fill(bytes)
        case .refuse(let message, _):
            // As in Redis, a command refused inside MULTI aborts the transaction at EXEC.
            self.transaction.refuse()
            slot.fillError(message)
        case .quit(let bytes):
            self.leaveTransactionAndSubscriptions()
            self.lifecycle.stopTakingCommands()
            slot.fillAndClose(bytes)
        case .reset:
            self.leaveTransactionAndSubscriptions()
            self.answerConnectionCommand(command, name: name, replySlot: slot)
        case .authenticate(let throughCluster):
            if let refusal = self.loop.shared.authFailures.refusal(for: self.clientHost, limit: self.loop.settings.authFailureLimit, now: self.loop.now) {
                slot.fillError(refusal)
            } else if let credentials = throughCluster {
                self.signInThroughCluster(command, name: name, credentials: credentials, replySlot: slot)
            } else {
                self.answerConnectionCommand(command, name: name, replySlot: slot)
            }
        case .connection:
            self.answerConnectionCommand(command, name: name, replySlot: slot)
        case .allClients(let about):
            self.answerAboutAllClients(about, replySlot: slot)
        case .transaction:
            self.handleTransactional(command, name: name, replySlot: slot)
        case .pubSub:
            self.handlePubSub(command, name: name, replySlot: slot)
        case .blocking(let keySlot, let master):
            self.sendBlocking(RoutedRequest(wire: command.wire, slot: keySlot, target: .client(slot)), to: master, asking: false)
        case .park(let node):
            self.park(waitingFor: node)
        case .wait(let anyMaster):
            self.startWait(command, anyMaster: anyMaster, replySlot: slot)
        case .cluster(let clusterPlan):
            self.router.carryOut(clusterPlan, command, replySlot: slot)
        }
    }

    /// `RESET` or `QUIT`: the transaction in progress is dropped (its link closed), and so are a
    /// RESP2 subscriber's subscriptions.
    private func leaveTransactionAndSubscriptions() {
        self.transaction.reset()?.close()
        if self.subscriptions?.isSubscribed == true && !self.usesRESP3 {
            self.leaveSubscriptions()
        }
    }

    /// Answers a command about the client's own connection (see ``ConnectionCommand``). A wrong password counts against the client's address. `login` is
    /// the user the cluster just accepted (`acl-mode passthrough`): once signed in, the client's
    /// commands travel as it.
    func answerConnectionCommand(_ command: RESPCommand, name: String, replySlot: ReplySlot, signingInAs login: NodeLogins.ID? = nil) {
        guard
            let reply = ConnectionCommand.answer(
                command,
                name: name,
                state: &self.connection,
                serverVersion: self.router.serverVersion,
                authenticator: self.loop.settings.authenticator
            )
        else { preconditionFailure("Invalid state: \(name) was planned as a connection command") }
        if reply.readableBytesView.starts(with: "-WRONGPASS".utf8) && ConnectionCommand.isAuthenticationAttempt(command, name: name) {
            self.loop.shared.authFailures.recordFailure(from: self.clientHost, now: self.loop.now)
        }
        if let login, self.connection.isAuthenticated {
            self.connection.nodeLogin = login
        }
        replySlot.fill(reply)
    }

    package func channelReadComplete(context: ChannelHandlerContext) {
        self.loop.flush.schedule()
    }

    package func channelInactive(context: ChannelHandlerContext) {
        self.lifecycle.closed()
        self.loop.clients.leave(self)
        self.line.removeAll()
        self.heldCommands.removeAll()
        self.parked = nil
        self.context = nil
        // The node frees a blocked or transaction link only when it closes.
        self.transaction.link?.close()
        self.transaction.crossSlotExec?.closeLinks()
        self.blockingLink?.close()
        self.subscriptions?.links.forEach { $0.close() }
        self.passthroughSignIn?.abandon()
        context.fireChannelInactive()
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// The client broke the protocol: it is told why, after what it is owed, and disconnected.
    private func answerProtocolError(_ error: RESPProtocolError) {
        self.lifecycle.stopTakingCommands()
        var bytes = ByteBuffer()
        bytes.writeRESPError(ProxyErrors.protocolError(error))
        _ = self.line.append(ReplyLine.Entry(reply: bytes, closesConnection: true))
        self.replyReady()
        self.loop.flush.schedule()
    }

    /// Puts bytes the client did not ask for (a pub/sub message) in line, after what is owed.
    func push(_ bytes: ByteBuffer) {
        _ = self.line.append(.push(bytes))
        self.replyReady()
    }

    /// A reply for the request numbered `sequence`; written out at once when it is the front's.
    func fill(_ sequence: Int, with bytes: ByteBuffer) {
        guard self.line.update(sequence, { $0.reply = bytes }) else { return }
        if self.line.isFront(sequence) {
            self.replyReady()
        }
    }

    /// Writes out the replies at the front of the line that are ready.
    func replyReady() {
        guard self.lifecycle.isOpen, let context = self.context else { return }
        while self.line.frontIsReady {
            // Moved out of the entry, not copied: no reference counting per reply.
            var head = self.line.removeFirst()
            let reply = head.reply.take()!
            if !head.isSilent {
                self.outbound.write(reply, to: context)
                self.loop.stats.bytesOut += reply.readableBytes
            }
            if let request = head.request.take() {
                self.loop.commandLog.answered(head, request: request, reply: reply, client: self)
            }
            if head.closesConnection {
                self.lifecycle.closed()
                self.line.removeAll()
                self.outbound.flush(context)
                // The empty write completes after every write before it: then close.
                context.writeAndFlush(self.wrapOutboundOut(ByteBuffer())).assumeIsolated().whenComplete { _ in
                    context.close(promise: nil)
                }
                return
            }
        }
        if self.lifecycle.repliesWritten(lineIsEmpty: self.line.isEmpty) {
            self.closeOutput(context)
            return
        }
        self.sendWaitIfDue()
        if !self.awaitsFlush {
            self.awaitsFlush = true
            self.loop.flush.sessionAwaits(self)
        }
        if self.lifecycle.reading == .paused && self.line.count < Self.resumeReadingAt && context.channel.isWritable {
            self.setReading(true, context: context)
        }
    }

    /// Sends what was written since the last flush, then checks the client reads its replies.
    func flush() {
        self.awaitsFlush = false
        if let context = self.context {
            self.outbound.flush(context)
            self.enforceOutputLimit(self.outputLimit, context: context)
        }
    }
}

@available(*, unavailable)
extension ClientSession: Sendable {}
