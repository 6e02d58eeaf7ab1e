//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// Tells systemd how the daemon is doing, by the `sd_notify(3)` protocol, without libsystemd.
///
/// `deploy/slotgate.service` is a `Type=notify` unit: systemd counts Slotgate as started only when
/// it says `READY=1` (slot map loaded, listener bound), shows its `STATUS=` line in
/// `systemctl status`, and restarts it when the `WATCHDOG=1` pings stop for `WatchdogSec=`.
/// The protocol is one datagram of `KEY=value` lines to the AF_UNIX socket named by
/// `NOTIFY_SOCKET` (a leading `@` means an abstract socket), so it takes a few lines of Glibc
/// rather than a dependency on libsystemd.
///
/// Outside systemd (`NOTIFY_SOCKET` unset) every call is a no-op that returns `false`, so the
/// daemon can call it unconditionally. No call throws or blocks: the socket is opened, sent to
/// and closed per message, as `sd_notify` does.
public struct SystemdNotifier: Sendable {
    /// The socket from `NOTIFY_SOCKET` as given (`@name` for an abstract one), or `nil` outside
    /// systemd.
    public let socketPath: String?

    /// How long systemd waits between pings before it deems the daemon hung (`WATCHDOG_USEC`), or
    /// `nil` when the watchdog is off, aimed at another process (`WATCHDOG_PID`), or there is no
    /// socket to ping. Ping at half of it, as `sd_watchdog_enabled(3)` advises.
    public let watchdogInterval: Duration?

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from `environment`; `pid` is
    /// this process's, to compare with `WATCHDOG_PID`.
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        pid: Int32 = getpid()
    ) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        self.socketPath = path
        self.watchdogInterval = path == nil ? nil : Self.watchdogInterval(environment: environment, pid: pid)
    }

    /// `true` when there is a socket to notify.
    public var isEnabled: Bool { self.socketPath != nil }

    /// Sends `state` (newline-separated `KEY=value` lines) as one datagram; `true` if it was sent
    /// whole. `false` outside systemd or on any error.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        guard let path = self.socketPath else { return false }
        return Self.send(Array(state.utf8), to: path)
    }

    /// `READY=1`, with a status line: startup is done (slot map loaded, listener bound), or a
    /// reload is.
    @discardableResult
    public func ready(status: String? = nil) -> Bool {
        self.notify("READY=1" + (status.map { "\nSTATUS=\(Self.oneLine($0))" } ?? ""))
    }

    /// `STATUS=…`: the free-form line `systemctl status` shows (clients, slot map version).
    @discardableResult
    public func status(_ text: String) -> Bool {
        self.notify("STATUS=\(Self.oneLine(text))")
    }

    /// `WATCHDOG=1`: the daemon is alive; send it every `watchdogInterval / 2`.
    @discardableResult
    public func watchdog() -> Bool {
        self.notify("WATCHDOG=1")
    }

    /// `RELOADING=1`: a configuration reload (SIGHUP) has begun; send `ready()` when it is done.
    @discardableResult
    public func reloading() -> Bool {
        self.notify("RELOADING=1")
    }

    /// `STOPPING=1`: shutdown has begun (clients are being drained).
    @discardableResult
    public func stopping() -> Bool {
        self.notify("STOPPING=1")
    }

    /// A status text on one line: a newline would start a new `KEY=value` field.
    private static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }

    /// `WATCHDOG_USEC` as a duration, if positive and meant for `pid` (`WATCHDOG_PID` unset or
    /// equal to it).
    private static func watchdogInterval(environment: [String: String], pid: Int32) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0, usec <= Int64.max else {
            return nil
        }
        if let owner = environment["WATCHDOG_PID"], Int32(owner) != pid { return nil }
        return .microseconds(Int64(usec))
    }

    /// One datagram to the socket at `path` (abstract if it starts with `@`); `true` if sent whole.
    private static func send(_ message: [UInt8], to path: String) -> Bool {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var name = Array(path.utf8)
        let abstract = name.first == UInt8(ascii: "@")
        if abstract { name[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        // A filesystem path needs room for its terminating NUL; an abstract name has none.
        guard name.count > (abstract ? 1 : 0), name.count + (abstract ? 0 : 1) <= capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: name) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + name.count + (abstract ? 0 : 1))

        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var sent: Int
        repeat {
            sent = message.withUnsafeBytes { bytes in
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), $0, length)
                    }
                }
            }
        } while sent < 0 && errno == EINTR
        return sent == message.count
    }
}
