//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Logging
import NIOCore
import NIOPosix
import SlotgateCluster
import SlotgateRESP

/// The proxy as a whole: event loops each with their own router, the topology monitor that feeds
/// them, and the listening socket clients connect to.
///
/// Start order: the monitor thread starts discovering at once; the listener is bound right away,
/// so clients that connect before the first slot map get a clear `-CLUSTERDOWN` instead of a
/// refused connection.
public final class ProxyServer: Sendable {
    private let configuration: ProxyConfiguration
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let monitor: TopologyMonitor
    private let routers: [NIOLoopBound<LoopRouter>]
    private let listener: any Channel

    /// Binds the client port and starts discovering the cluster.
    public static func start(configuration: ProxyConfiguration, logger: Logger) async throws -> ProxyServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoopThreads)
        let monitor = TopologyMonitor(
            configuration: .init(
                seeds: configuration.seeds,
                refreshInterval: configuration.topologyRefreshInterval,
                minimumRefreshInterval: configuration.topologyMinimumRefreshInterval,
                nodeTimeout: configuration.connectTimeout,
                credentials: configuration.clusterCredentials,
                replicaMaxLag: configuration.readPolicy == .master ? nil : configuration.replicaMaxLag
            ),
            logger: logger
        )
        let settings = RouterSettings(
            maxRedirects: configuration.maxRedirects,
            connectTimeout: TimeAmount(configuration.connectTimeout),
            retryDelay: .milliseconds(10),
            reconnectDelay: .milliseconds(50),
            maxReconnectDelay: .seconds(2),
            authenticator: ClientAuthenticator(requirePassword: configuration.requirePassword),
            nodeAuthCommand: configuration.clusterCredentials.map { arguments in
                var command = ByteBuffer()
                command.writeRESPCommand(arguments)
                return command
            },
            failoverHold: configuration.failoverHold.map(TimeAmount.init),
            electionAllowance: .seconds(5),
            holdByteBudget: configuration.failoverHoldMaxMemory / configuration.eventLoopThreads,
            requestTimeout: configuration.requestTimeout == .zero ? nil : TimeAmount(configuration.requestTimeout),
            readPolicy: configuration.readPolicy
        )
        let identity = ProxyIdentity()
        let exclusiveLinks = ExclusiveLinkBudget(
            limit: configuration.maxExclusiveLinks,
            limitPerClient: configuration.maxExclusiveLinksPerClient
        )
        let scripts = ScriptCache()
        let directory = RouterDirectory()
        var routers: [NIOLoopBound<LoopRouter>] = []
        for loop in group.makeIterator() {
            routers.append(
                try await loop.submit {
                    NIOLoopBound(
                        LoopRouter(
                            eventLoop: loop,
                            settings: settings,
                            monitor: monitor,
                            identity: identity,
                            exclusiveLinks: exclusiveLinks,
                            scripts: scripts,
                            directory: directory,
                            logger: logger
                        ),
                        eventLoop: loop
                    )
                }.get()
            )
        }
        let allRouters = routers
        directory.register(allRouters)
        for router in allRouters {
            router.eventLoop.execute { router.value.startTicking() }
        }
        monitor.start { update in
            for router in allRouters {
                router.eventLoop.execute { router.value.install(update) }
            }
        }
        do {
            let listener = try await Self.bind(configuration: configuration, group: group, routers: allRouters)
            identity.announce(Self.announcedAddress(configuration: configuration, boundPort: listener.localAddress?.port ?? configuration.port))
            logger.info(
                "listening",
                metadata: ["listen.address": "\(listener.localAddress.map { "\($0)" } ?? "?")", "threads": "\(configuration.eventLoopThreads)"]
            )
            return ProxyServer(configuration: configuration, logger: logger, group: group, monitor: monitor, routers: allRouters, listener: listener)
        } catch {
            monitor.stop()
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private init(
        configuration: ProxyConfiguration,
        logger: Logger,
        group: MultiThreadedEventLoopGroup,
        monitor: TopologyMonitor,
        routers: [NIOLoopBound<LoopRouter>],
        listener: any Channel
    ) {
        self.configuration = configuration
        self.logger = logger
        self.group = group
        self.monitor = monitor
        self.routers = routers
        self.listener = listener
    }

    /// The address clients connect to (the real port when the configuration asked for port 0).
    public var localAddress: SocketAddress? { self.listener.localAddress }

    /// Stops listening, closes the event loops and stops the topology monitor.
    public func shutdown() async throws {
        try? await self.listener.close()
        self.monitor.stop()
        try await self.group.shutdownGracefully()
    }

    /// The address Slotgate gives as its own to cluster-aware clients.
    private static func announcedAddress(configuration: ProxyConfiguration, boundPort: Int) -> NodeAddress {
        var host = configuration.announceHost
        if host.isEmpty {
            host = ["0.0.0.0", "::", "*"].contains(configuration.bind) ? "127.0.0.1" : configuration.bind
        }
        return NodeAddress(host: host, port: configuration.announcePort != 0 ? configuration.announcePort : boundPort)
    }

    private static func bind(
        configuration: ProxyConfiguration,
        group: MultiThreadedEventLoopGroup,
        routers: [NIOLoopBound<LoopRouter>]
    ) async throws -> any Channel {
        let limits = RESPRequestLimits(maxBulkLength: configuration.protoMaxBulkLength)
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 511)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let router = routers.first(where: { $0.eventLoop === channel.eventLoop }) else {
                        preconditionFailure("Invalid state: a channel on an event loop without a router")
                    }
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(RESPRequestDecoder(limits: limits)),
                        ClientSession(router: router.value)
                    )
                }
            }
            .bind(host: configuration.bind, port: configuration.port)
            .get()
    }
}
