//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import SlotgateCluster
import SlotgateConfiguration
import SlotgateRESP

/// The proxy as a whole: event loops each with their own ``ProxyLoop``, the topology monitor that feeds
/// them, and the listening sockets clients connect to (plain, TLS, or both).
///
/// Start order: the monitor thread starts discovering at once; the listener is bound right away,
/// so clients that connect before the first slot map get a clear `-CLUSTERDOWN` instead of a
/// refused connection.
public final class ProxyServer: Sendable {
    private let configuration: ProxyConfiguration
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let monitor: TopologyMonitor
    private let loops: [NIOLoopBound<ProxyLoop>]
    /// The plain client port; `nil` when `port 0` leaves only the TLS port.
    private let listener: (any Channel)?
    /// The TLS client port and its context, when `tls-port` is set.
    private let tlsListener: (channel: any Channel, tls: ClientTLS)?
    private let admin: (service: AdminService, channel: (any Channel)?)
    /// Set when shutdown begins: the monitor's views no longer reach the loops.
    private let stopped: NIOLockedValueBox<Bool>

    /// Binds the client port and starts discovering the cluster.
    public static func start(configuration: ProxyConfiguration, logger: Logger) async throws -> ProxyServer {
        let nodeTLS = try configuration.clusterTLS.makeContext()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoopThreads)
        let monitor = TopologyMonitor(
            configuration: .init(
                seeds: configuration.seeds,
                refreshInterval: configuration.topologyRefreshInterval,
                minimumRefreshInterval: configuration.topologyMinimumRefreshInterval,
                nodeTimeout: configuration.connectTimeout,
                credentials: configuration.clusterCredentials,
                replicaMaxLag: configuration.replicaMaxLag,
                tls: nodeTLS
            ),
            logger: logger
        )
        let settings = RouterSettings(configuration)
        let identity = ProxyIdentity()
        let exclusiveLinks = ExclusiveLinkBudget(
            limit: configuration.maxExclusiveLinks,
            limitPerClient: configuration.maxExclusiveLinksPerClient
        )
        let authFailures = AuthFailureLimiter()
        let directory = LoopDirectory()
        let shared = ProxyShared(
            identity: identity,
            exclusiveLinks: exclusiveLinks,
            connectedClients: BoundedCounter(),
            authFailures: authFailures,
            scripts: ScriptCache(),
            directory: directory
        )
        var loops: [NIOLoopBound<ProxyLoop>] = []
        for eventLoop in group.makeIterator() {
            loops.append(
                try await eventLoop.submit {
                    NIOLoopBound(
                        ProxyLoop(eventLoop: eventLoop, settings: settings, monitor: monitor, shared: shared, logger: logger),
                        eventLoop: eventLoop
                    )
                }.get()
            )
        }
        let allLoops = loops
        directory.register(allLoops)
        for loop in allLoops {
            loop.eventLoop.execute { loop.value.startTicking() }
        }
        let stopped = NIOLockedValueBox(false)
        monitor.start { update in
            // Under the lock, so that no view is handed to a loop once shutdown has begun.
            stopped.withLockedValue { stopped in
                guard !stopped else { return }
                for loop in allLoops {
                    loop.eventLoop.execute { loop.value.install(update) }
                }
            }
        }
        let service = AdminService(
            configuration: configuration,
            directory: directory,
            monitor: monitor,
            exclusiveLinks: exclusiveLinks,
            authFailures: authFailures
        )
        LogLevelControl.shared.level = configuration.logLevel
        do {
            let clientTLS = configuration.tls.isEnabled ? try ClientTLS(configuration.tls) : nil
            // `port 0` beside a `tls-port` turns the plain port off, as in Redis; alone it asks
            // for any free port.
            let listener =
                configuration.port == 0 && clientTLS != nil
                ? nil : try await Self.bind(port: configuration.port, tls: nil, configuration: configuration, group: group, loops: allLoops)
            var tlsListener: (channel: any Channel, tls: ClientTLS)?
            if let clientTLS {
                let channel = try await Self.bind(
                    port: configuration.tls.port,
                    tls: clientTLS,
                    configuration: configuration,
                    group: group,
                    loops: allLoops
                )
                tlsListener = (channel, clientTLS)
            }
            let boundPort = listener?.localAddress?.port ?? tlsListener?.channel.localAddress?.port ?? configuration.port
            let adminChannel =
                configuration.adminPort == 0 ? nil : try await Self.bindAdmin(configuration: configuration, group: group, service: service)
            identity.announce(Self.announcedAddress(configuration: configuration, boundPort: boundPort))
            logger.info(
                "listening",
                metadata: [
                    "listen.address": "\(listener?.localAddress.map { "\($0)" } ?? "none")",
                    "listen.tls_address": "\(tlsListener?.channel.localAddress.map { "\($0)" } ?? "none")",
                    "threads": "\(configuration.eventLoopThreads)",
                ]
            )
            if let adminChannel {
                logger.info("admin port listening", metadata: ["admin.address": "\(adminChannel.localAddress.map { "\($0)" } ?? "?")"])
            }
            return ProxyServer(
                configuration: configuration,
                logger: logger,
                group: group,
                monitor: monitor,
                loops: allLoops,
                listener: listener,
                tlsListener: tlsListener,
                admin: (service, adminChannel),
                stopped: stopped
            )
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
        loops: [NIOLoopBound<ProxyLoop>],
        listener: (any Channel)?,
        tlsListener: (channel: any Channel, tls: ClientTLS)?,
        admin: (service: AdminService, channel: (any Channel)?),
        stopped: NIOLockedValueBox<Bool>
    ) {
        self.stopped = stopped
        self.configuration = configuration
        self.logger = logger
        self.group = group
        self.monitor = monitor
        self.loops = loops
        self.listener = listener
        self.tlsListener = tlsListener
        self.admin = admin
    }

    /// The address clients connect to (the real port when the configuration asked for port 0);
    /// `nil` when only the TLS port listens.
    public var localAddress: SocketAddress? { self.listener?.localAddress }

    /// The TLS port's address, if it listens.
    public var tlsLocalAddress: SocketAddress? { self.tlsListener?.channel.localAddress }

    /// The admin port's address, if it listens.
    public var adminAddress: SocketAddress? { self.admin.channel?.localAddress }

    /// Stops gracefully: no new connections; clients get the replies to what they already sent
    /// (for up to `shutdown-timeout`) and are then disconnected; then links close, the event loops
    /// and the topology monitor stop.
    public func shutdown() async throws {
        try? await self.listener?.close()
        try? await self.tlsListener?.channel.close()
        try? await self.admin.channel?.close()
        let timeout = self.admin.service.configuration.shutdownTimeout
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        let directory = self.admin.service.directory
        var remaining = (try? await directory.gather(on: directory.anyEventLoop) { $0.clients.drain() }.get().reduce(0, +)) ?? 0
        while remaining > 0 && clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
            remaining = (try? await directory.gather(on: directory.anyEventLoop) { $0.clients.drain() }.get().reduce(0, +)) ?? 0
        }
        self.logger.info(
            "clients drained",
            metadata: ["clients.left": "\(remaining)", "shutdown_timeout.ms": "\(timeout.components.seconds * 1000)"]
        )
        _ = try? await directory.gather(on: directory.anyEventLoop) { $0.closeLinks() }.get()
        self.monitor.stop()
        self.stopped.withLockedValue { $0 = true }
        try await self.group.shutdownGracefully()
    }

    /// Puts a new configuration in force (`SIGHUP`): returns the changed directives that need a
    /// restart, which keep their old values.
    /// The TLS port's certificate, key and CA files are read again; when they cannot be, the error
    /// is logged and the port keeps serving the old ones.
    public func reload(_ configuration: ProxyConfiguration) -> [String] {
        if let tls = self.tlsListener?.tls {
            do {
                try tls.reload(configuration.tls)
            } catch {
                self.logger.error("TLS files not reloaded; the old ones stay in use", metadata: ["error": "\(error)"])
            }
        }
        return self.admin.service.apply(configuration)
    }

    /// Clients connected and the slot map version, for systemd's `STATUS=`; `nil` before the
    /// first slot map.
    public func status() async -> (clients: Int, mapVersion: Int)? {
        let directory = self.admin.service.directory
        let loops = try? await directory.gather(on: directory.anyEventLoop) { ($0.stats.clientsConnected, $0.router.view?.version) }.get()
        guard let loops, let version = loops.compactMap(\.1).max() else { return nil }
        return (loops.reduce(0) { $0 + $1.0 }, version)
    }

    /// The address Slotgate gives as its own to cluster-aware clients.
    private static func announcedAddress(configuration: ProxyConfiguration, boundPort: Int) -> NodeAddress {
        var host = configuration.announceHost
        if host.isEmpty {
            host = ["0.0.0.0", "::", "*"].contains(configuration.bind) ? "127.0.0.1" : configuration.bind
        }
        return NodeAddress(host: host, port: configuration.announcePort != 0 ? configuration.announcePort : boundPort)
    }

    private static func bindAdmin(configuration: ProxyConfiguration, group: MultiThreadedEventLoopGroup, service: AdminService) async throws
        -> any Channel
    {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AdminProtocolSniffer(service: service))
                }
            }
            .bind(host: configuration.adminBind, port: configuration.adminPort)
            .get()
    }

    /// Listens for clients on `port`, speaking TLS first when `tls` is given.
    private static func bind(
        port: Int,
        tls: ClientTLS?,
        configuration: ProxyConfiguration,
        group: MultiThreadedEventLoopGroup,
        loops: [NIOLoopBound<ProxyLoop>]
    ) async throws -> any Channel {
        let limits = RESPRequestLimits(maxBulkLength: configuration.protoMaxBulkLength, maxQueryBuffer: configuration.clientQueryBufferLimit)
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 511)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // NIO keeps up to this many receive buffers per client; requests in flight hold theirs.
            .childChannelOption(.maxMessagesPerRead, value: 4)
            // Reads start small, so an idle client holds a small buffer, and grow with the traffic.
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65536))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let loop = loops.first(where: { $0.eventLoop === channel.eventLoop }) else {
                        preconditionFailure("Invalid state: a channel on an event loop without its ProxyLoop")
                    }
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(tls.makeHandler())
                    }
                    try channel.pipeline.syncOperations.addHandler(ClientSession(loop: loop.value, limits: limits))
                }
            }
            .bind(host: configuration.bind, port: port)
            .get()
    }
}
