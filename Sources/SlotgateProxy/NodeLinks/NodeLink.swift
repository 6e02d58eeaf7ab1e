//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import DequeModule
import Logging
import NIOCore
import SlotgateCluster
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
/// answering is noticed by ``isOverdue(at:limit:)``: the router closes the link after the request
/// timeout, so one stalled node cannot hold its clients forever.
package final class NodeLink {
    let address: NodeAddress
    /// The loop's router outlives every link it opens, so it is held without reference counting.
    private unowned(unsafe) let router: LoopRouter
    /// Whether the router owns the link (a shared link). It is then told of replies directly.
    private let isShared: Bool
    /// The session owning a link of its own; it may go first. `nil` while the link waits in the
    /// router's pool of exclusive links (see ``ExclusiveLinkPool``).
    private weak var session: (any NodeLinkOwner)?
    /// An exclusive link waiting in the router's pool for its next session.
    private(set) var isPooled = false
    /// The node's id for this connection (`CLIENT ID`), once a blocking command asked for it, so
    /// that `CLIENT UNBLOCK` can name it to the node.
    var nodeClientID: Int?
    private var context: ChannelHandlerContext?
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
    private var isClosed = false
    /// Replies to the proxy's own `AUTH`, `HELLO 3` and `READONLY`, not to anyone's request.
    private var setupRepliesToDrop = 0
    /// The link signed in as a client's user (`acl-mode passthrough`) and the node has not
    /// accepted it yet: requests wait in `unsent`, so that none runs as anybody else.
    private var awaitsSignIn = false
    /// Since when the oldest request in flight has waited without the node answering anything.
    private var waitingSince: NIODeadline?
    /// The node's round trips, counted by the loop.
    private let nodeStats: NodeStats

    /// A subscriber link: the node speaks when it has messages, not once per request, so every
    /// frame goes to the owner as a push and no request waits for a reply.
    let carriesPushes: Bool

    package init(
        address: NodeAddress,
        router: LoopRouter,
        owner: any NodeLinkOwner,
        carriesPushes: Bool = false,
        resp3: Bool,
        login: NodeLogins.ID = NodeLogins.slotgate
    ) {
        self.address = address
        self.router = router
        self.isShared = owner === router
        self.session = self.isShared ? nil : owner
        self.carriesPushes = carriesPushes
        self.resp3 = resp3
        self.login = login
        self.framer = ReplyFraming(resp3: resp3)
        self.nodeStats = router.stats.node(address)
    }

    /// Who hears of the link's replies and of its end.
    private var owner: (any NodeLinkOwner)? {
        self.isShared || self.isPooled ? self.router : self.session
    }

    /// Hands an exclusive link to `session`, or back to the router's pool (`nil`).
    func assign(to session: (any NodeLinkOwner)?) {
        self.session = session
        self.isPooled = session == nil
    }

    /// Whether the link can serve another session: connected, open, nothing in flight.
    var isIdle: Bool {
        self.context != nil && !self.isClosed && self.inFlight.isEmpty && self.unsent.isEmpty
    }

    /// Queues a request and writes it, or keeps its bytes until the connection is up.
    func send(_ request: consuming RoutedRequest) {
        if let context = self.context, !self.awaitsSignIn {
            self.outbound.write(request.wire, to: context)
            self.awaitFlush()
        } else {
            self.unsent.append(request.wire)
        }
        self.lastSentAt = self.router.now
        guard !self.carriesPushes else { return }
        request.sentAt = self.lastSentAt
        if self.inFlight.isEmpty {
            self.waitingSince = request.sentAt
        }
        self.inFlight.append(request)
    }

    /// Has the router flush the link at the end of this loop turn, once however much is written.
    private func awaitFlush() {
        if !self.awaitsFlush {
            self.awaitsFlush = true
            self.router.linkAwaitsFlush(self)
        }
    }

    /// Sends what was written since the last flush.
    func flush() {
        self.awaitsFlush = false
        if let context = self.context {
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
        guard self.context != nil, let waitingSince = self.waitingSince, !self.inFlight.isEmpty else { return false }
        return now - waitingSince > limit
    }

    /// The connection is up: write what waited for it.
    func connected(_ context: ChannelHandlerContext) {
        guard !self.isClosed else {
            context.close(promise: nil)
            return
        }
        self.context = context
        self.router.nodeConnected(self.address)
        if !self.inFlight.isEmpty {
            self.waitingSince = self.router.now
        }
        if let auth = self.router.logins.authCommand(for: self.login) {
            self.setupRepliesToDrop += 1
            self.outbound.write(auth, to: context)
            self.awaitsSignIn = self.login != NodeLogins.slotgate
        }
        if self.resp3 {
            self.setupRepliesToDrop += 1
            self.outbound.write(ProxyReplies.hello3Command, to: context)
        }
        if self.router.linksReadFromReplicas {
            self.setupRepliesToDrop += 1
            self.outbound.write(ProxyReplies.readOnlyCommand, to: context)
        }
        if !self.awaitsSignIn {
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
        self.awaitsSignIn = false
        guard reply.kind == .error else {
            if let context = self.context {
                self.writeUnsent(to: context)
                self.awaitFlush()
            }
            return
        }
        self.router.logger.warning(
            "node refused a client user's sign-in; closing the link",
            metadata: ["upstream.node": "\(self.address)", "reply": "\(reply.lineText)"]
        )
        self.closedOnPurpose = true
        let context = self.context
        self.close(failing: ProxyErrors.userSignInRefused(self.address, reply.lineText), connectFailed: true) { _ in nil }
        context?.close(promise: nil)
    }

    /// Bytes from the node: frame them and hand each reply to the router with its request.
    func received(_ bytes: ByteBuffer) {
        guard !self.isClosed else { return }
        self.framer.feed(bytes)
        self.router.noteTime()
        let now = self.router.now
        defer { self.waitingSince = self.inFlight.isEmpty ? nil : now }
        do {
            while !self.isClosed, let reply = try self.framer.next() {
                if self.awaitsSignIn {
                    self.setupRepliesToDrop -= 1
                    self.signInAnswered(reply)
                    continue
                }
                if self.setupRepliesToDrop > 0 {
                    self.setupRepliesToDrop -= 1
                    if reply.kind == .error {
                        self.router.logger.error(
                            "node refused the link's AUTH, HELLO 3 or READONLY",
                            metadata: ["upstream.node": "\(self.address)", "reply": "\(reply.lineText)"]
                        )
                    }
                    continue
                }
                if self.carriesPushes {
                    self.owner?.link(self, pushed: reply)
                    continue
                }
                guard let request = self.inFlight.popFirst() else {
                    throw RESPReplyFramingError(message: "a reply arrived for no request")
                }
                self.nodeStats.requests += 1
                self.nodeStats.latency.record(microseconds: (now - request.sentAt).nanoseconds / 1000)
                if self.isShared {
                    self.router.link(self, received: reply, for: request)
                } else {
                    self.session?.link(self, received: reply, for: request)
                }
            }
        } catch {
            self.router.logger.warning(
                "node sent bytes that are not RESP; closing the link",
                metadata: ["upstream.node": "\(self.address)", "error": "\(error)"]
            )
            self.context?.close(promise: nil)
        }
    }

    /// The connection could not be made: nothing was sent, so every request may be sent again.
    func connectFailed(_ error: any Error) {
        self.router.nodeRefusedConnection(self.address, error: error)
        self.close(failing: ProxyErrors.cannotConnect(self.address, ProxyErrors.connectFailureReason(error)), connectFailed: true) { $0 }
    }

    /// The link was closed by Slotgate, not lost: nothing to warn about.
    private(set) var closedOnPurpose = false

    /// Closes the connection on purpose; requests still in flight are treated as for a drop
    /// (answered with an error, or given back when read-only).
    func close() {
        self.closedOnPurpose = true
        self.context?.close(promise: nil)
        self.disconnected()
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
        if !self.inFlight.isEmpty && !self.isClosed {
            self.router.stats.count(.linkLost)
        }
        self.close(failing: ProxyErrors.linkLost(self.address), connectFailed: false, resending: Self.readOnlyRetry)
    }

    /// The node left a request unanswered past `limit`: the link is given up (replies still to
    /// come would arrive out of turn) and its requests fail; they may have run.
    func timedOut(after limit: TimeAmount) {
        self.router.stats.count(.timeout)
        self.router.logger.warning(
            "node did not answer in time; closing the link",
            metadata: ["upstream.node": "\(self.address)", "timeout.ms": "\(limit.nanoseconds / 1_000_000)"]
        )
        let context = self.context
        self.close(failing: ProxyErrors.requestTimedOut(self.address, limit), connectFailed: false) { _ in nil }
        context?.close(promise: nil)
    }

    /// A read-only request, counted as one more attempt, while it has attempts left.
    private static func readOnlyRetry(_ request: RoutedRequest) -> RoutedRequest? {
        guard request.isReadOnly else { return nil }
        var retry = request
        retry.attempts += 1
        return retry
    }

    /// Ends the link: the owner hears of it first, then `resending` picks the requests to give back
    /// to it, and the others are answered with `message`.
    private func close(failing message: String, connectFailed: Bool, resending: (RoutedRequest) -> RoutedRequest?) {
        guard !self.isClosed else { return }
        self.isClosed = true
        self.context = nil
        self.unsent.removeAll()
        var returned = Deque<RoutedRequest>()
        var failed: [RoutedRequest] = []
        while let request = self.inFlight.popFirst() {
            if let retry = resending(request), retry.attempts <= self.router.maxRedirects {
                returned.append(retry)
            } else {
                failed.append(request)
            }
        }
        self.owner?.linkClosed(self, connectFailed: connectFailed, requestsFailed: failed.count)
        for request in failed {
            request.target.linkFailed(message, mayHaveRun: !connectFailed)
        }
        if !returned.isEmpty {
            self.owner?.link(self, returned: returned, reason: message)
        }
    }
}

/// The channel handler under a ``NodeLink``: feeds it reads, connection state and read bursts.
package final class NodeLinkHandler: ChannelInboundHandler {
    package typealias InboundIn = ByteBuffer
    package typealias OutboundOut = ByteBuffer

    private let link: NodeLink
    private let router: LoopRouter

    package init(link: NodeLink, router: LoopRouter) {
        self.link = link
        self.router = router
    }

    package func channelActive(context: ChannelHandlerContext) {
        self.link.connected(context)
        context.fireChannelActive()
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.link.received(self.unwrapInboundIn(data))
    }

    package func channelReadComplete(context: ChannelHandlerContext) {
        self.router.scheduleFlush()
    }

    package func channelInactive(context: ChannelHandlerContext) {
        self.link.disconnected()
        self.router.scheduleFlush()
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
