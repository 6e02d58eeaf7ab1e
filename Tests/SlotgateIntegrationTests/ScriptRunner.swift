//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a shell script to completion with `posix_spawn` and `waitpid`.
///
/// Foundation's `Process.waitUntilExit` was seen to hang here after the script had exited, so the
/// tests wait for their helper scripts the plain POSIX way. Output goes to a log file, never a
/// pipe, so daemons the script starts cannot hold the test's reading end open.
enum ScriptRunner {
    /// Runs `/bin/bash script arguments…` and returns its exit status and output.
    static func run(_ script: String, _ arguments: [String], logPath: String) throws -> (status: Int32, output: String) {
        let pid = try Self.spawn("/bin/bash", [script] + arguments, outputPath: logPath, errorPath: nil)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? String(contentsOfFile: logPath)) ?? ""
        let exitCode = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exitCode, output)
    }

    /// Runs a Python program (a redis-py client script) with `arguments`, for at most 60 s, and
    /// returns its exit status and output.
    static func runPython(_ source: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let base = NSTemporaryDirectory() + "slotgate-python-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try source.write(toFile: base + ".py", atomically: true, encoding: .utf8)
        defer {
            try? FileManager.default.removeItem(atPath: base + ".py")
            try? FileManager.default.removeItem(atPath: base + ".log")
        }
        return try Self.run("-c", ["timeout 60 python3 \"$@\"", "python", base + ".py"] + arguments, logPath: base + ".log")
    }

    /// Starts `executable` with stdin from /dev/null, stdout to `outputPath` and stderr to
    /// `errorPath` (or to stdout when `nil`); returns its PID.
    static func spawn(_ executable: String, _ arguments: [String], outputPath: String, errorPath: String?) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if let errorPath {
            posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        // The test process blocks signals (SIGTERM among them) on its threads, and a spawned
        // process inherits that mask: the nodes a script starts would then ignore SIGTERM.
        // Start the child with no signal blocked and every signal at its default action.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard spawned == 0 else { throw HarnessError("cannot start \(executable): error \(spawned)") }
        return pid
    }
}
