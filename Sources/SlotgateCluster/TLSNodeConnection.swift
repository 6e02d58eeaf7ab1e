//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import DequeModule
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import SlotgateRESP

/// A blocking connection to one node over TLS (`cluster-tls`), for the topology monitor's thread.
///
/// Debian's hiredis 0.14 cannot speak TLS, so the socket is a SwiftNIO channel with swift-nio-ssl
/// on it, and the thread waits on it; hiredis's reader still parses the replies
/// (``HiredisReplyReader``), so they decode exactly as on a plain connection.
final class TLSNodeConnection: BlockingNodeConnection {
    private let channel: any Channel
    private let inbox: ReplyInbox
    private let timeout: Duration
    /// Commands appended since the last flush.
    private var pending = ByteBuffer()

    /// Connects and completes the TLS handshake, waiting at most `timeout` for each.
    init(to node: NodeAddress, timeout: Duration, context: NIOSSLContext) throws(BlockingRedisConnectionError) {
        let inbox = ReplyInbox()
        self.inbox = inbox
        self.timeout = timeout
        do {
            self.channel = try ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(TimeAmount(timeout))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                        try channel.pipeline.syncOperations.addHandler(ReplyInboxHandler(inbox: inbox))
                    }
                }
                .connect(host: node.host, port: node.port)
                .wait()
        } catch {
            throw BlockingRedisConnectionError(message: "cannot connect over TLS to \(node): \(error)")
        }
    }

    deinit {
        self.channel.close(promise: nil)
    }

    func append(_ arguments: [[UInt8]]) throws(BlockingRedisConnectionError) {
        self.pending.writeRESPCommand(arguments.map { ByteBuffer(bytes: $0) })
    }

    func flush() throws(BlockingRedisConnectionError) {
        guard self.pending.readableBytes > 0 else { return }
        let bytes = self.pending
        self.pending = ByteBuffer()
        do {
            try self.channel.writeAndFlush(bytes).wait()
        } catch {
            throw BlockingRedisConnectionError(message: "writing to the node over TLS failed: \(error)")
        }
    }

    func readReply() throws(BlockingRedisConnectionError) -> RESPValue {
        try self.flush()
        return try self.inbox.next(within: self.timeout)
    }
}

/// The replies a TLS channel delivered, parsed as they arrive, for the thread that waits on them.
/// Guarded by its condition lock: value 1 when a reply or the end of the connection waits.
private final class ReplyInbox: @unchecked Sendable {
    private let condition = ConditionLock(value: 0)
    private let reader = HiredisReplyReader()
    private var replies = Deque<RESPValue>()
    private var failure: BlockingRedisConnectionError?

    /// Bytes from the node (called on the channel's event loop).
    func received(_ bytes: ByteBuffer) {
        self.condition.lock()
        self.reader.feed(bytes)
        do {
            while let reply = try self.reader.next() {
                self.replies.append(reply)
            }
        } catch {
            self.failure = error
        }
        self.condition.unlock(withValue: self.hasNews ? 1 : 0)
    }

    /// The connection ended (called on the channel's event loop).
    func ended(_ reason: String) {
        self.condition.lock()
        self.failure = self.failure ?? BlockingRedisConnectionError(message: reason)
        self.condition.unlock(withValue: 1)
    }

    /// The next reply, waiting at most `limit` for it.
    func next(within limit: Duration) throws(BlockingRedisConnectionError) -> RESPValue {
        let seconds = Double(limit.components.seconds) + Double(limit.components.attoseconds) / 1e18
        guard self.condition.lock(whenValue: 1, timeoutSeconds: seconds) else {
            throw BlockingRedisConnectionError(message: "the node did not answer within \(limit)")
        }
        defer { self.condition.unlock(withValue: self.hasNews ? 1 : 0) }
        if let reply = self.replies.popFirst() { return reply }
        throw self.failure ?? BlockingRedisConnectionError(message: "the TLS connection ended")
    }

    private var hasNews: Bool { !self.replies.isEmpty || self.failure != nil }
}

/// Hands a TLS channel's decrypted bytes, and its end, to its ``ReplyInbox``.
private final class ReplyInboxHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    private let inbox: ReplyInbox

    init(inbox: ReplyInbox) {
        self.inbox = inbox
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.inbox.received(self.unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.inbox.ended("the node closed the TLS connection")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.inbox.ended("TLS connection failed: \(error)")
        context.close(promise: nil)
    }
}
