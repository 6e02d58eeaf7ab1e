//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import DequeModule
import Logging
import NIOCore
import SlotgateCluster
import SlotgateConfiguration
import SlotgateRESP

/// A connection from one event loop to one cluster node.
///
/// Most links are shared by all of the loop's clients (their owner is the router); a client in
/// a transaction or a blocking command has one to itself (its owner is that client's session).
/// Requests are pipelined onto the link; the node answers in order, so the link keeps
/// a queue of the requests in flight and matches each framed reply to the oldest. While the TCP
/// connection is being made, requests wait in the queue and their bytes wait in `unsent`.
/// When the connection drops, every request in flight is answered with an error naming the node
/// and never re-sent, since it may have run; only read-only requests, and requests that never left
/// because the connection failed, go back to the owner to be sent again. A node that stops
/// answering is noticed by ``isOverdue(at:limit:)``: the loop closes the link after the request
/// timeout, so one stalled node cannot hold its clients forever.
///
/// Where the link is in its life is ``NodeLinkStateMachine``'s to decide; this class carries out
/// what it says.
package final class NodeLink {
    /// Who hears of the link's replies and of its end.
    private enum Owner {
        /// A shared link: the loop's router.
        case router
        /// An exclusive link held by a client's session (or a passthrough sign-in), ``client``,
        /// which may go first.
        case client
        /// An exclusive link waiting in the pool for its next session; the router hears of its end.
        case pool
    }

    let address: NodeAddress
    /// The loop outlives every link it opens, so it is held without reference counting.
    private unowned(unsafe) let loop: ProxyLoop
    /// The loop's router, which hears of the replies on shared links; held like the loop.
    private unowned(unsafe) let router: LoopRouter
    private var owner: Owner
    /// The client holding an exclusive link (kept apart from ``owner`` so that the hot path's
    /// switch over the owner touches no weak reference).
    private weak var client: (any NodeLinkOwner)?
    private var state = NodeLinkStateMachine<ChannelHandlerContext>()
    /// The node's id for this connection (`CLIENT ID`), once a blocking command asked for it, so
    /// that `CLIENT UNBLOCK` can name it to the node.
    var nodeClientID: Int?
    private let inFlight = Ring<RoutedRequest>()
    /// Bytes of queued requests not yet written because the connection is not up.
    private var unsent: [ByteBuffer] = []
    private let framer: ReplyFraming
    /// The link said `HELLO 3` and its replies are RESP3.
    let resp3: Bool
    /// The user the link signed in as (see ``NodeLogins``).
    let login: NodeLogins.ID
    /// When a request was last sent on the link, for closing links that signed in as a client's
    /// user once they sit idle (`passthrough-idle-timeout`).
    private(set) var lastSentAt = NIODeadline.now()
    private var awaitsFlush = false
    private var outbound = OutboundBatch()
    /// Since when the oldest request in flight has waited without the node answering anything.
    private var waitingSince: NIODeadline?
    /// The node's round trips, counted by the loop.
    private let nodeStats: NodeStats

    /// A subscriber link: the node speaks when it has messages, not once per request, so every
    /// frame goes to the owner as a push and no request waits for a reply.
    let carriesPushes: Bool

    package init(
        address: NodeAddress,
        loop: ProxyLoop,
        owner: any NodeLinkOwner,
        carriesPushes: Bool = false,
        resp3: Bool,
        login: NodeLogins.ID = NodeLogins.slotgate
    ) {
        self.address = address
        self.loop = loop
        self.router = loop.router
        if owner === loop.router {
            self.owner = .router
        } else {
            self.owner = .client
            self.client = owner
        }
        self.carriesPushes = carriesPushes
        self.resp3 = resp3
        self.login = login
        self.framer = ReplyFraming(resp3: resp3)
        self.nodeStats = loop.stats.node(address)
    }

    /// Who hears of the link's replies and of its end now.
    private var currentOwner: (any NodeLinkOwner)? {
        switch self.owner {
        case .router, .pool: return self.router
        case .client: return self.client
        }
    }

    /// Hands an exclusive link to `session`, or back to the pool (`nil`).
    func assign(to session: (any NodeLinkOwner)?) {
        self.client = session
        self.owner = session == nil ? .pool : .client
    }

    /// Whether the link can serve another session: connected, open, nothing in flight.
    var isIdle: Bool {
        self.state.context != nil && self.inFlight.isEmpty && self.unsent.isEmpty
    }

    /// The link was closed by Slotgate, not lost: nothing to warn about.
    var closedOnPurpose: Bool { self.state.closedOnPurpose }

    /// Queues a request and writes it, or keeps its bytes until the connection is up.
    func send(_ request: consuming RoutedRequest) {
        switch self.state.send() {
        case .write(let context):
            self.outbound.write(request.wire, to: context)
            self.awaitFlush()
        case .keepUnsent:
            self.unsent.append(request.wire)
        case .fail:
            request.target.linkFailed(ProxyErrors.linkLost(self.address), mayHaveRun: false)
            return
        }
        self.lastSentAt = self.loop.now
        if !request.isReadOnly {
            request.target.wrote(to: self.address)
        }
        guard !self.carriesPushes else { return }
        request.sentAt = self.lastSentAt
        if self.inFlight.isEmpty {
            self.waitingSince = request.sentAt
        }
        self.inFlight.append(request)
    }

    /// Has the loop flush the link at the end of this turn, once however much is written.
    private func awaitFlush() {
        if !self.awaitsFlush {
            self.awaitsFlush = true
            self.loop.flush.linkAwaits(self)
        }
    }

    /// Sends what was written since the last flush.
    func flush() {
        self.awaitsFlush = false
        if let context = self.state.context {
            self.outbound.flush(context)
        }
    }

    // MARK: - Events from the channel

    /// Whether requests sent on the link still wait for their replies.
    var hasRequestsInFlight: Bool { !self.inFlight.isEmpty }

    /// How many requests wait for their replies.
    var inFlightCount: Int { self.inFlight.count }

    /// Whether nothing was sent on the link for `limit`, and nothing waits for an answer.
    func hasBeenIdle(for limit: TimeAmount, at now: NIODeadline) -> Bool {
        self.inFlight.isEmpty && self.unsent.isEmpty && now - self.lastSentAt >= limit
    }

    /// Whether the node has left a request unanswered, and been silent, for longer than `limit`.
    func isOverdue(at now: NIODeadline, limit: TimeAmount) -> Bool {
        guard self.state.context != nil, let waitingSince = self.waitingSince, !self.inFlight.isEmpty else { return false }
        return now - waitingSince > limit
    }

    /// The connection is up: write what waited for it, after the link's own setup commands.
    func connected(_ context: ChannelHandlerContext) {
        let auth = self.loop.links.authCommand(for: self.login)
        let setup = NodeLinkStateMachine<ChannelHandlerContext>.Setup(
            authenticates: auth != nil,
            signsInAsClient: self.login != NodeLogins.slotgate,
            switchesToRESP3: self.resp3,
            readsFromReplicas: self.loop.settings.readPolicy != .master
        )
        let writesUnsent: Bool
        switch self.state.connected(context, setup: setup) {
        case .closeChannel(let context):
            context.close(promise: nil)
            return
        case .writeSetupThenUnsent:
            writesUnsent = true
        case .writeSetupAndAwaitSignIn:
            writesUnsent = false
        }
        self.loop.links.nodeConnected(self.address)
        if !self.inFlight.isEmpty {
            self.waitingSince = self.loop.now
        }
        if let auth {
            self.outbound.write(auth, to: context)
        }
        if setup.switchesToRESP3 {
            self.outbound.write(ProxyReplies.hello3Command, to: context)
        }
        if setup.readsFromReplicas {
            self.outbound.write(ProxyReplies.readOnlyCommand, to: context)
        }
        if writesUnsent {
            self.writeUnsent(to: context)
        }
        self.outbound.flush(context)
    }

    private func writeUnsent(to context: ChannelHandlerContext) {
        for bytes in self.unsent {
            self.outbound.write(bytes, to: context)
        }
        self.unsent.removeAll()
    }

    /// The node's answer to the `AUTH` of a link signed in as a client's user: once accepted, the
    /// waiting requests go; if refused (the user's password changed since the client signed in),
    /// none is sent, and each is answered with the node's refusal.
    private func signInAnswered(_ reply: FramedReply) {
        switch self.state.signInAnswered(accepted: reply.kind != .error) {
        case .writeUnsent(let context):
            self.writeUnsent(to: context)
            self.awaitFlush()
        case .failAndClose(let context):
            self.loop.logger.warning(
                "node refused a client user's sign-in; closing the link",
                metadata: ["upstream.node": "\(self.address)", "reply": "\(reply.lineText)"]
            )
            self.end(failing: ProxyErrors.userSignInRefused(self.address, reply.lineText), connectFailed: true) { _ in nil }
            context.close(promise: nil)
        }
    }

    /// Bytes from the node: frame them and hand each reply to the owner with its request.
    func received(_ bytes: ByteBuffer) {
        guard !self.state.isClosed else { return }
        self.framer.feed(bytes)
        self.loop.noteTime()
        let now = self.loop.now
        defer { self.waitingSince = self.inFlight.isEmpty ? nil : now }
        do {
            while let reply = try self.framer.next() {
                switch self.state.replyReceived() {
                case .ignore:
                    return
                case .signInVerdict:
                    self.signInAnswered(reply)
                case .dropSetupReply:
                    if reply.kind == .error {
                        self.loop.logger.error(
                            "node refused the link's AUTH, HELLO 3 or READONLY",
                            metadata: ["upstream.node": "\(self.address)", "reply": "\(reply.lineText)"]
                        )
                    }
                case .deliver:
                    try self.deliver(reply, now: now)
                }
            }
        } catch {
            self.loop.logger.warning(
                "node sent bytes that are not RESP; closing the link",
                metadata: ["upstream.node": "\(self.address)", "error": "\(error)"]
            )
            self.state.context?.close(promise: nil)
        }
    }

    /// A reply to a request (or, on a subscriber link, a frame): to the owner.
    @inline(__always)
    private func deliver(_ reply: FramedReply, now: NIODeadline) throws(RESPReplyFramingError) {
        if self.carriesPushes {
            self.currentOwner?.link(self, pushed: reply)
            return
        }
        guard let request = self.inFlight.popFirst() else {
            throw RESPReplyFramingError(message: "a reply arrived for no request")
        }
        self.nodeStats.requests += 1
        self.nodeStats.latency.record(microseconds: (now - request.sentAt).nanoseconds / 1000)
        switch self.owner {
        case .router: self.router.link(self, received: reply, for: request)
        case .client: self.client?.link(self, received: reply, for: request)
        case .pool: break
        }
    }

    /// The connection could not be made: nothing was sent, so every request may be sent again.
    func connectFailed(_ error: any Error) {
        self.loop.links.nodeRefusedConnection(self.address, error: error)
        guard case .end = self.state.close(onPurpose: false) else { return }
        self.end(failing: ProxyErrors.cannotConnect(self.address, ProxyErrors.connectFailureReason(error)), connectFailed: true) { $0 }
    }

    /// Closes the connection on purpose; requests still in flight are treated as for a drop
    /// (answered with an error, or given back when read-only).
    func close() {
        let hadRequests = !self.inFlight.isEmpty
        guard case .end(let context) = self.state.close(onPurpose: true) else { return }
        if hadRequests {
            self.loop.stats.count(.linkLost)
        }
        self.end(failing: ProxyErrors.linkLost(self.address), connectFailed: false, resending: Self.readOnlyRetry)
        context?.close(promise: nil)
    }

    /// Closes the link and drops the requests in flight unanswered: their owner sends them again
    /// elsewhere (a transaction that moved to another node).
    func abandon() {
        self.inFlight.removeAll()
        self.close()
    }

    /// The connection dropped: requests in flight may have run on the node, so only read-only
    /// ones are sent again.
    func disconnected() {
        let hadRequests = !self.inFlight.isEmpty
        guard case .end = self.state.close(onPurpose: false) else { return }
        if hadRequests {
            self.loop.stats.count(.linkLost)
        }
        self.end(failing: ProxyErrors.linkLost(self.address), connectFailed: false, resending: Self.readOnlyRetry)
    }

    /// The node left a request unanswered past `limit`: the link is given up (replies still to
    /// come would arrive out of turn) and its requests fail; they may have run.
    func timedOut(after limit: TimeAmount) {
        self.loop.stats.count(.timeout)
        self.loop.logger.warning(
            "node did not answer in time; closing the link",
            metadata: ["upstream.node": "\(self.address)", "timeout.ms": "\(limit.nanoseconds / 1_000_000)"]
        )
        guard case .end(let context) = self.state.close(onPurpose: false) else { return }
        self.end(failing: ProxyErrors.requestTimedOut(self.address, limit), connectFailed: false) { _ in nil }
        context?.close(promise: nil)
    }

    /// A read-only request, counted as one more attempt, while it has attempts left.
    private static func readOnlyRetry(_ request: RoutedRequest) -> RoutedRequest? {
        guard request.isReadOnly else { return nil }
        var retry = request
        retry.attempts += 1
        return retry
    }

    /// What ending the link means, once the state machine has closed it: the registry forgets it,
    /// the owner hears of it, then `resending` picks the requests to give back to the owner, and
    /// the others are answered with `message`.
    private func end(failing message: String, connectFailed: Bool, resending: (RoutedRequest) -> RoutedRequest?) {
        self.unsent.removeAll()
        var returned = Deque<RoutedRequest>()
        var failed: [RoutedRequest] = []
        let maxRedirects = self.loop.settings.maxRedirects
        while let request = self.inFlight.popFirst() {
            if let retry = resending(request), retry.attempts <= maxRedirects {
                returned.append(retry)
            } else {
                failed.append(request)
            }
        }
        self.loop.links.forget(self)
        let owner = self.currentOwner
        owner?.linkClosed(self, connectFailed: connectFailed, requestsFailed: failed.count)
        for request in failed {
            request.target.linkFailed(message, mayHaveRun: !connectFailed)
        }
        if !returned.isEmpty {
            owner?.link(self, returned: returned, reason: message)
        }
    }
}

/// The channel handler under a ``NodeLink``: feeds it reads, connection state and read bursts.
package final class NodeLinkHandler: ChannelInboundHandler {
    package typealias InboundIn = ByteBuffer
    package typealias OutboundOut = ByteBuffer

    private let link: NodeLink
    /// Held strongly: the link refers to its loop without reference counting, so the loop must
    /// outlive the channel.
    private let loop: ProxyLoop

    package init(link: NodeLink, loop: ProxyLoop) {
        self.link = link
        self.loop = loop
    }

    package func channelActive(context: ChannelHandlerContext) {
        self.link.connected(context)
        context.fireChannelActive()
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.link.received(self.unwrapInboundIn(data))
    }

    package func channelReadComplete(context: ChannelHandlerContext) {
        self.loop.flush.schedule()
    }

    package func channelInactive(context: ChannelHandlerContext) {
        self.link.disconnected()
        self.loop.flush.schedule()
        context.fireChannelInactive()
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension NodeLink: Sendable {}

@available(*, unavailable)
extension NodeLinkHandler: Sendable {}
