// swift-tools-version:6.1
//
// Slotgate: a cluster-aware Redis proxy. Any single-node Redis client points at one port
// and talks to a whole Redis Cluster through it.

import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    // Release builds skip the run-time exclusivity checks (debug builds and tests keep them): on
    // the hot path they cost a thread-local lookup per access to a class's stored property.
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "slotgate",
    products: [
        .executable(name: "slotgate", targets: ["slotgate"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        // SHA1 of the scripts clients run with EVAL, the name Redis caches them under.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
        // Micro-benchmarks (Tests/Benchmarks). Only the malloc interposer, for allocation counts: the
        // default traits add an ARC-counting runtime interposer these benchmarks do not use.
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The system hiredis (Debian's libhiredis-dev): redisReader frames node replies,
        // redisContext talks to nodes synchronously on the topology monitor thread.
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // glibc's malloc_trim and mallinfo2, for giving freed memory back after a burst.
        .target(name: "CGlibcMalloc"),
        // Wire protocol: client request parsing, reply framing over redisReader, encoders.
        .target(
            name: "SlotgateRESP",
            dependencies: [
                "CHiredis",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // The cluster model: hash slots, slot maps, command table, topology discovery.
        .target(
            name: "SlotgateCluster",
            dependencies: [
                "SlotgateRESP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // ACL users: Redis's rule syntax, authorization of a request, ACL LIST's description.
        .target(
            name: "SlotgateACL",
            dependencies: [
                "SlotgateCluster",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        // Configuration as a plain value: the directive table, the file reader, the defaults.
        .target(
            name: "SlotgateConfiguration",
            dependencies: [
                "SlotgateACL",
                "SlotgateCluster",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // The proxy itself: client sessions, routing, node links, transactions, pub/sub, admin port.
        .target(
            name: "SlotgateProxy",
            dependencies: [
                "SlotgateRESP",
                "SlotgateCluster",
                "SlotgateACL",
                "SlotgateConfiguration",
                "CGlibcMalloc",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "slotgate",
            dependencies: [
                "SlotgateProxy",
                "SlotgateCluster",
                "SlotgateConfiguration",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SlotgateRESPTests",
            dependencies: ["SlotgateRESP", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SlotgateClusterTests",
            dependencies: ["SlotgateCluster", "SlotgateRESP", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SlotgateACLTests",
            dependencies: ["SlotgateACL", "SlotgateCluster", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SlotgateConfigurationTests",
            dependencies: ["SlotgateConfiguration", "SlotgateACL", "SlotgateCluster", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SlotgateProxyTests",
            dependencies: ["SlotgateProxy", "SlotgateConfiguration", "SlotgateCluster"],
            swiftSettings: strictSettings
        ),
        // Hot-path micro-benchmarks: `swift package benchmark` (see the target's main file). The
        // plugin runs executable targets whose folder sits in a folder named `Benchmarks`.
        .executableTarget(
            name: "SlotgateBenchmarks",
            dependencies: [
                "SlotgateProxy",
                "SlotgateCluster",
                "SlotgateConfiguration",
                "SlotgateRESP",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/Benchmarks/SlotgateBenchmarks",
            swiftSettings: strictSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Live tests: each suite starts real redis-server processes in cluster mode.
        .testTarget(
            name: "SlotgateIntegrationTests",
            dependencies: [
                "SlotgateProxy",
                "SlotgateConfiguration",
                "SlotgateCluster",
                "SlotgateRESP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)

// libFuzzer targets (deploy/fuzz.sh), declared only when SLOTGATE_FUZZ is set, so that a plain
// `swift build` or `swift test` never sees them. Each is built alone (`--product`) with
// `-sanitize=fuzzer,address`.
if Context.environment["SLOTGATE_FUZZ"] != nil {
    package.targets += [
        // libFuzzer's LLVMFuzzerRunDriver, declared for Swift.
        .target(name: "CFuzzerDriver"),
        // What the fuzz targets share: handing over to libFuzzer, cutting inputs into reads.
        .target(
            name: "FuzzSupport",
            dependencies: ["CFuzzerDriver", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "FuzzRequestDecoder",
            dependencies: ["FuzzSupport", "SlotgateRESP", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSettings
        ),
        .executableTarget(name: "FuzzInlineCommand", dependencies: ["FuzzSupport", "SlotgateRESP"], swiftSettings: strictSettings),
        .executableTarget(
            name: "FuzzReplyFramer",
            dependencies: ["FuzzSupport", "SlotgateRESP", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSettings
        ),
        .executableTarget(name: "FuzzConfiguration", dependencies: ["FuzzSupport", "SlotgateConfiguration"], swiftSettings: strictSettings),
    ]
}
