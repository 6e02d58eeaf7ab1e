//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The built `slotgate` executable run as a process of its own, for what only a real process
/// shows: its reaction to signals (SIGHUP reloads, SIGTERM drains), its log lines on standard
/// error, its exit status, and the subcommands (`--check-config`, `stats`, `top`).
///
/// Standard output and standard error go to files, never pipes, so a process that outlives a
/// failed test cannot block on a full pipe. Signals go only to the PID this object spawned, and
/// only while that process has not been reaped; ``stop()`` ends it (SIGTERM, then SIGKILL) if a
/// test did not.
///
/// Unchecked `Sendable`: the exit status is guarded by a lock; everything else is immutable.
final class SlotgateProcess: @unchecked Sendable {
    let pid: pid_t
    /// Where its standard output and standard error are written.
    let outputPath: String
    let logPath: String
    private let lock = NSLock()
    private var exitStatus: Int32?

    private init(pid: pid_t, outputPath: String, logPath: String) {
        self.pid = pid
        self.outputPath = outputPath
        self.logPath = logPath
    }

    /// The `slotgate` executable built beside the test bundle (`swift build --build-tests` builds
    /// both into the same directory, whatever `--scratch-path` says).
    static func executable() throws -> String {
        let testBinary = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "")
        let candidates = [
            testBinary.deletingLastPathComponent().appendingPathComponent("slotgate").path,
            LocalCluster.repositoryRoot + "/.build/debug/slotgate",
        ]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw HarnessError("no slotgate executable in \(candidates); build it with swift build --build-tests")
        }
        return found
    }

    /// Starts `slotgate arguments…` with standard input from /dev/null, no signal blocked and
    /// every signal at its default action (the test process blocks some, and a child would
    /// inherit that mask). `name` names its output files in the temporary directory.
    static func spawn(_ arguments: [String], name: String) throws -> SlotgateProcess {
        let executable = try Self.executable()
        let base = NSTemporaryDirectory() + "slotgate-ops-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let outputPath = base + ".out"
        let logPath = base + ".err"
        let pid = try ScriptRunner.spawn(executable, arguments, outputPath: outputPath, errorPath: logPath)
        return SlotgateProcess(pid: pid, outputPath: outputPath, logPath: logPath)
    }

    /// Runs `slotgate arguments…` to completion, for at most `timeout` (then it is killed and this
    /// throws); returns its exit status, standard output and standard error.
    static func run(_ arguments: [String], name: String, timeout: Duration = .seconds(20)) throws -> (
        status: Int32, output: String, log: String
    ) {
        let process = try Self.spawn(arguments, name: name)
        defer { process.removeFiles() }
        guard let status = process.waitForExit(timeout: timeout) else {
            process.stop()
            throw HarnessError("slotgate \(arguments.joined(separator: " ")) did not exit within \(timeout): \(process.output) \(process.log)")
        }
        return (status, process.output, process.log)
    }

    /// Its standard output so far.
    var output: String { Self.read(self.outputPath) }

    /// Its standard error (the key=value log) so far.
    var log: String { Self.read(self.logPath) }

    /// Whether it has not exited (or has exited and not been reaped yet).
    var isRunning: Bool { self.poll() == nil }

    /// Sends `signal` to the process, unless it has already exited.
    func send(_ signal: Int32) throws {
        guard self.isRunning else { throw HarnessError("slotgate (pid \(self.pid)) has already exited with \(self.poll() ?? -1)") }
        guard kill(self.pid, signal) == 0 else { throw HarnessError("kill -\(signal) \(self.pid) failed: errno \(errno)") }
    }

    /// Waits until it exits, for at most `timeout`; its exit status (128 + the signal when a
    /// signal ended it), or `nil` if it still runs.
    func waitForExit(timeout: Duration) -> Int32? {
        let clock = ContinuousClock()
        let start = clock.now
        while true {
            if let status = self.poll() { return status }
            guard clock.now - start < timeout else { return nil }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    /// Waits (at most `timeout`) until the log past byte `offset` has a line containing every
    /// one of `fragments`; returns that line.
    func waitForLogLine(containing fragments: [String], after offset: Int = 0, timeout: Duration = .seconds(5)) -> String? {
        let clock = ContinuousClock()
        let start = clock.now
        while true {
            let log = self.log.utf8.dropFirst(offset)
            let line = String(decoding: log, as: UTF8.self).split(whereSeparator: \.isNewline).first { line in
                fragments.allSatisfy { line.contains($0) }
            }
            if let line { return String(line) }
            guard clock.now - start < timeout else { return nil }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    /// Ends the process if it still runs: SIGTERM, then SIGKILL after 5 s; reaps it. Safe to call
    /// again.
    func stop() {
        guard self.isRunning else { return }
        kill(self.pid, SIGTERM)
        if self.waitForExit(timeout: .seconds(5)) == nil {
            kill(self.pid, SIGKILL)
            _ = self.waitForExit(timeout: .seconds(5))
        }
    }

    /// Deletes its output files.
    func removeFiles() {
        try? FileManager.default.removeItem(atPath: self.outputPath)
        try? FileManager.default.removeItem(atPath: self.logPath)
    }

    /// Reaps the process without waiting if it has exited; its exit status, or `nil` while it runs.
    private func poll() -> Int32? {
        self.lock.withLock {
            if let status = self.exitStatus { return status }
            var status: Int32 = 0
            var reaped = waitpid(self.pid, &status, WNOHANG)
            while reaped < 0 && errno == EINTR { reaped = waitpid(self.pid, &status, WNOHANG) }
            guard reaped == self.pid else { return nil }
            let exitCode = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            self.exitStatus = exitCode
            return exitCode
        }
    }

    private static func read(_ path: String) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    }
}

/// The admin port's HTTP side, spoken over a plain socket: one `GET` with `Connection: close`,
/// read until the proxy closes. No HTTP library, so nothing is retried or followed behind the
/// test's back.
enum AdminHTTP {
    struct Response {
        let status: Int
        let head: String
        let body: String

        /// The body parsed as a JSON object.
        func json() throws -> [String: Any] {
            guard let object = try JSONSerialization.jsonObject(with: Data(self.body.utf8)) as? [String: Any] else {
                throw HarnessError("not a JSON object: \(self.body.prefix(200))")
            }
            return object
        }
    }

    /// `GET path` on the admin port, with HTTP basic auth when `password` is given.
    static func get(_ path: String, port: Int, password: String? = nil) throws -> Response {
        let client = try RawClient(port: port)
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if let password {
            request += "Authorization: Basic \(Data("admin:\(password)".utf8).base64EncodedString())\r\n"
        }
        try client.send(request + "\r\n")
        let text = String(decoding: client.receive(atLeast: Int.max), as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw HarnessError("no HTTP response to GET \(path): \(text.prefix(200))") }
        let head = String(text[..<split.lowerBound])
        let statusLine = head.split(separator: "\r\n").first ?? ""
        guard let status = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else {
            throw HarnessError("bad status line for GET \(path): \(statusLine)")
        }
        return Response(status: status, head: head, body: String(text[split.upperBound...]))
    }
}
