//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Logging
import NIOCore
import NIOEmbedded
import SlotgateCluster
import SlotgateConfiguration
import SlotgateProxy
import SlotgateRESP

/// One client and one node around a real ``ProxyLoop``, on an embedded event loop, without
/// sockets: a `GET` goes in as the client's bytes, through its ``ClientSession`` and the command
/// catalog onto the shared ``NodeLink`` of the only node of ``SingleNodeCluster``, and the node's
/// reply goes back out to the client.
///
/// Both channels end in a ``WireSink``. The node's reply is fed to the link as soon as the
/// request is sent, and the loop then runs once: the loop's end-of-turn flush writes the
/// request to the node and the reply to the client, as if both reads came in the same loop turn.
/// Everything is made, used and ended on one thread, as the embedded loop requires.
final class FastPathHarness {
    private let loop = EmbeddedEventLoop()
    private let client: EmbeddedChannel
    private let node: EmbeddedChannel
    private let clientWire = WireSink()
    private let nodeWire = WireSink()
    private let request = RESPInputs.pipelinedGets(1)
    private let reply = RESPInputs.bulkReplies(1, size: 32)
    /// `GET`s sent so far.
    private var sentCount = 0

    init() throws {
        let logger = Logger(label: "slotgate.benchmarks") { _ in SwiftLogNoOpLogHandler() }
        let configuration = ProxyConfiguration(seeds: [SingleNodeCluster.node])
        let loop = ProxyLoop(
            eventLoop: self.loop,
            settings: RouterSettings(configuration),
            // Never started: the view below is installed by hand.
            monitor: TopologyMonitor(
                configuration: .init(
                    seeds: configuration.seeds,
                    refreshInterval: configuration.topologyRefreshInterval,
                    minimumRefreshInterval: configuration.topologyMinimumRefreshInterval,
                    nodeTimeout: configuration.connectTimeout
                ),
                logger: logger
            ),
            shared: ProxyShared(
                identity: ProxyIdentity(),
                exclusiveLinks: ExclusiveLinkBudget(
                    limit: configuration.maxExclusiveLinks,
                    limitPerClient: configuration.maxExclusiveLinksPerClient
                ),
                connectedClients: BoundedCounter(),
                authFailures: AuthFailureLimiter(),
                scripts: ScriptCache(),
                directory: LoopDirectory()
            ),
            logger: logger
        )
        loop.install(.available(SingleNodeCluster.view()))
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 6379)
        let link = NodeLink(address: SingleNodeCluster.node, loop: loop, owner: loop.router, resp3: false)
        self.node = EmbeddedChannel(handlers: [self.nodeWire, NodeLinkHandler(link: link, loop: loop)], loop: self.loop)
        // An embedded channel is active as soon as it connects: the link is up, and then becomes
        // the loop's shared link for the node.
        self.node.connect(to: address, promise: nil)
        loop.links.setShared(link, for: NodeLinks.Key(node: SingleNodeCluster.node, resp3: false))
        self.client = EmbeddedChannel(handlers: [self.clientWire, ClientSession(loop: loop, limits: RESPRequestLimits())], loop: self.loop)
        // Active at once: the client is admitted.
        self.client.connect(to: address, promise: nil)
        self.loop.run()
    }

    /// One `GET` from the client to the node, and the node's reply back to the client.
    func dispatchGet() throws {
        try self.client.writeInbound(self.request)
        try self.node.writeInbound(self.reply)
        self.loop.run()
        self.sentCount += 1
    }

    /// Whether every `GET` so far reached the node and every reply the client, byte for byte.
    var deliveredAll: Bool {
        self.nodeWire.byteCount == self.sentCount * self.request.readableBytes
            && self.clientWire.byteCount == self.sentCount * self.reply.readableBytes
    }

    /// Closes both channels; the client leaves and the link is gone.
    func close() throws {
        _ = try self.client.finish()
        _ = try self.node.finish()
    }
}
