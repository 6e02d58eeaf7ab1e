//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import SlotgateRESP
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A plain (non-cluster) redis-server of this machine, started on a free loopback port for one
/// test suite and stopped after it, so the command table is built from a real `COMMAND` reply
/// and Slotgate's error texts can be compared with the ones the server itself gives.
///
/// Attach it to a suite with `.throwawayRedisServer`; tests reach it with ``connect()``.
final class ThrowawayRedisServer {
    /// The port of the server of the suite running on this task, if any.
    @TaskLocal static var port: Int?

    let port: Int
    private let process: Process
    private let directory: URL

    private init(port: Int, process: Process, directory: URL) {
        self.port = port
        self.process = process
        self.directory = directory
    }

    /// Starts a server and waits (at most a few seconds) until it answers PING.
    static func start() throws -> ThrowawayRedisServer {
        let executable = try self.findExecutable("redis-server")
        var failures: [String] = []
        // A port found free may be taken before the server binds it; try a few.
        for _ in 0..<5 {
            let port = try self.freePort()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("slotgate-unit-redis-\(port)-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let process = Process()
            process.executableURL = executable
            process.arguments = [
                "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--dir", directory.path, "--logfile", "",
            ]
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let server = ThrowawayRedisServer(port: port, process: process, directory: directory)
            if server.waitUntilReady(timeout: .seconds(10)) {
                return server
            }
            failures.append("port \(port): \(process.isRunning ? "no PONG" : "exited with \(process.terminationStatus)")")
            server.stop()
        }
        throw ThrowawayRedisServerError("redis-server did not start: \(failures.joined(separator: "; "))")
    }

    /// A connection to the server of the suite running on this task.
    static func connect() throws -> BlockingRedisConnection {
        guard let port = self.port else {
            throw ThrowawayRedisServerError("the suite has no .throwawayRedisServer trait")
        }
        return try BlockingRedisConnection(host: "127.0.0.1", port: port, timeout: .seconds(5))
    }

    /// Stops the server by its process id and waits, boundedly, for it to exit.
    func stop() {
        let pid = self.process.processIdentifier
        if self.process.isRunning {
            kill(pid, SIGTERM)
            let deadline = ContinuousClock.now + .seconds(5)
            while self.process.isRunning && ContinuousClock.now < deadline {
                usleep(10_000)
            }
            if self.process.isRunning {
                kill(pid, SIGKILL)
            }
        }
        self.process.waitUntilExit()
        try? FileManager.default.removeItem(at: self.directory)
    }

    private func waitUntilReady(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline && self.process.isRunning {
            if let connection = try? BlockingRedisConnection(host: "127.0.0.1", port: self.port, timeout: .milliseconds(500)),
                (try? connection.command(["PING"])) == .simpleString("PONG")
            {
                return true
            }
            usleep(20_000)
        }
        return false
    }

    private static func findExecutable(_ name: String) throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":").map(String.init) + ["/usr/local/bin", "/usr/bin", "/usr/sbin"] {
            let candidate = URL(fileURLWithPath: directory).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) {
                return candidate
            }
        }
        throw ThrowawayRedisServerError("\(name) is not installed (apt-get install redis-server)")
    }

    /// A loopback TCP port nobody listens on: bind port 0, read what the kernel chose, close.
    private static func freePort() throws -> Int {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw ThrowawayRedisServerError("socket() failed: errno \(errno)") }
        defer { close(socketFD) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw ThrowawayRedisServerError("bind() failed: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) }
        }
        guard named == 0 else { throw ThrowawayRedisServerError("getsockname() failed: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

struct ThrowawayRedisServerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs a whole suite with one ``ThrowawayRedisServer``, stopped when the suite ends.
struct ThrowawayRedisServerTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        let server = try ThrowawayRedisServer.start()
        defer { server.stop() }
        try await ThrowawayRedisServer.$port.withValue(server.port) {
            try await function()
        }
    }
}

extension Trait where Self == ThrowawayRedisServerTrait {
    /// Starts a redis-server for the suite; see ``ThrowawayRedisServer``.
    static var throwawayRedisServer: Self { Self() }
}
