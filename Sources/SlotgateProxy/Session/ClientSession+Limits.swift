//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Logging
import NIOCore
import SlotgateRESP

/// The limits on one client: `maxclients` when it connects, the idle `timeout`,
/// `client-output-buffer-limit` on replies it does not read, and `request-timeout` on its
/// transaction's link.
extension ClientSession {
    package func channelActive(context: ChannelHandlerContext) {
        guard self.loop.clients.admit(self) else {
            self.lifecycle.refused()
            var bytes = ByteBuffer()
            bytes.writeRESPError(ProxyErrors.maxClients)
            context.writeAndFlush(self.wrapOutboundOut(bytes)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            return
        }
        self.lifecycle.admitted()
        context.fireChannelActive()
    }

    /// Closes the client if it sat idle past `timeout` seconds (never while it waits on a blocking
    /// command, is subscribed, or is owed replies), or if more than ``outputLimit`` reply bytes wait
    /// for it to read; gives up its transaction's links past `request-timeout`. Called about once a
    /// second.
    func enforceLimits(now: NIODeadline, idleTimeout: Int) {
        guard let context = self.context, self.lifecycle.isOpen else { return }
        if let limit = self.loop.settings.requestTimeout, !self.transaction.isIdle {
            // A transaction's node that stops answering is given up like a shared link's.
            let links = [self.transaction.link].compactMap { $0 } + (self.transaction.crossSlotExec?.links.values.map { $0 } ?? [])
            for link in links where link.isOverdue(at: now, limit: limit) {
                link.timedOut(after: limit)
            }
        }
        let idle =
            idleTimeout > 0 && now - self.lastCommandAt > .seconds(Int64(idleTimeout)) && self.line.isEmpty
            && self.blockingLink == nil && self.subscriptions == nil && self.transaction.isIdle
        if idle {
            self.loop.logger.debug("closing an idle client", metadata: ["client.address": "\(self.remoteAddress)"])
            context.close(promise: nil)
        } else {
            self.enforceOutputLimit(self.outputLimit, context: context)
        }
    }

    /// The output buffer limit that applies now: a subscribed client's messages arrive whether it
    /// reads them or not, so it has a limit of its own.
    var outputLimit: Int {
        self.subscriptions?.isSubscribed == true ? self.loop.settings.clientOutputBufferLimitPubSub : self.loop.settings.clientOutputBufferLimit
    }

    /// Disconnects the client when more than `limit` reply bytes wait in its socket's queue.
    func enforceOutputLimit(_ limit: Int, context: ChannelHandlerContext) {
        guard limit > 0, !context.channel.isWritable,
            let queued = try? context.channel.syncOptions?.getOption(.bufferedWritableBytes), queued > limit
        else { return }
        self.loop.logger.warning(
            "closing a client that does not read its replies",
            metadata: ["client.address": "\(self.remoteAddress)", "queued.bytes": "\(queued)", "limit.bytes": "\(limit)"]
        )
        self.loop.stats.clientErrors["OUTPUT-BUFFER-LIMIT", default: 0] += 1
        self.lifecycle.closed()
        context.close(promise: nil)
    }
}
