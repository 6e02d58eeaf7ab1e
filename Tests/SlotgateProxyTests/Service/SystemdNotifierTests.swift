//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import Testing

@testable import SlotgateProxy

#if canImport(Glibc)
    import Glibc
#endif

/// Protects the sd_notify protocol the `Type=notify` unit relies on: the exact datagrams on a real
/// AF_UNIX socket (filesystem and abstract), the no-op outside systemd, and the watchdog interval.
@Suite("SystemdNotifier")
struct SystemdNotifierTests {
    /// A bound AF_UNIX datagram socket standing in for systemd's notify socket.
    final class FakeSystemd {
        let fd: Int32
        /// The `NOTIFY_SOCKET` value naming it.
        let notifySocket: String
        private let directory: String?

        /// Binds a socket file in a fresh temp dir, or an abstract socket when `abstract`.
        init(abstract: Bool) throws {
            let unique = UUID().uuidString.prefix(8)
            if abstract {
                self.directory = nil
                self.notifySocket = "@slotgate-test-\(unique)"
            } else {
                let directory = FileManager.default.temporaryDirectory.path + "/slotgate-notify-\(unique)"
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                self.directory = directory
                self.notifySocket = directory + "/notify"
            }
            self.fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            try #require(self.fd >= 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            var name = Array(self.notifySocket.utf8)
            if abstract { name[0] = 0 }
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: name) }
            let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + name.count + (abstract ? 0 : 1))
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(self.fd, $0, length) }
            }
            try #require(bound == 0, "bind failed: errno \(errno)")
            // Never hang the suite: a receive gives up after 2 s.
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(self.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        /// The next datagram as text, or `nil` after the timeout.
        func receive() -> String? {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(self.fd, &buffer, buffer.count, 0)
            return count < 0 ? nil : String(decoding: buffer[..<count], as: UTF8.self)
        }

        deinit {
            close(self.fd)
            if let directory = self.directory { try? FileManager.default.removeItem(atPath: directory) }
        }
    }

    @Test("READY, STATUS, WATCHDOG, RELOADING and STOPPING arrive as exact datagrams", arguments: [false, true])
    func datagrams(abstract: Bool) throws {
        let systemd = try FakeSystemd(abstract: abstract)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": systemd.notifySocket])
        #expect(notifier.isEnabled)

        #expect(notifier.ready(status: "clients 0, slot map version 1"))
        #expect(systemd.receive() == "READY=1\nSTATUS=clients 0, slot map version 1")
        #expect(notifier.ready())
        #expect(systemd.receive() == "READY=1")
        #expect(notifier.status("clients 12, slot map version 3"))
        #expect(systemd.receive() == "STATUS=clients 12, slot map version 3")
        #expect(notifier.watchdog())
        #expect(systemd.receive() == "WATCHDOG=1")
        #expect(notifier.reloading())
        #expect(systemd.receive() == "RELOADING=1")
        #expect(notifier.stopping())
        #expect(systemd.receive() == "STOPPING=1")
        #expect(notifier.notify("EXTEND_TIMEOUT_USEC=5000000"))
        #expect(systemd.receive() == "EXTEND_TIMEOUT_USEC=5000000")
    }

    @Test("a newline in a status text cannot start another field")
    func statusStaysOneLine() throws {
        let systemd = try FakeSystemd(abstract: true)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": systemd.notifySocket])
        #expect(notifier.status("draining\nREADY=1"))
        #expect(systemd.receive() == "STATUS=draining READY=1")
    }

    @Test("without NOTIFY_SOCKET every call is a no-op that returns false")
    func noSocket() {
        for environment in [[:], ["NOTIFY_SOCKET": ""], ["WATCHDOG_USEC": "30000000"]] {
            let notifier = SystemdNotifier(environment: environment)
            #expect(!notifier.isEnabled)
            #expect(notifier.watchdogInterval == nil)
            #expect(!notifier.ready(status: "x"))
            #expect(!notifier.status("x"))
            #expect(!notifier.watchdog())
            #expect(!notifier.stopping())
        }
    }

    @Test("a socket nobody listens on, or a name too long for sun_path, returns false")
    func unreachableSocket() {
        let missing = FileManager.default.temporaryDirectory.path + "/slotgate-no-such-\(UUID().uuidString)/notify"
        #expect(!SystemdNotifier(environment: ["NOTIFY_SOCKET": missing]).ready())
        #expect(!SystemdNotifier(environment: ["NOTIFY_SOCKET": "@slotgate-nobody-\(UUID().uuidString)"]).ready())
        #expect(!SystemdNotifier(environment: ["NOTIFY_SOCKET": "/" + String(repeating: "a", count: 200)]).ready())
        #expect(!SystemdNotifier(environment: ["NOTIFY_SOCKET": "@"]).ready())
    }

    @Test("WATCHDOG_USEC gives the interval; WATCHDOG_PID must name this process")
    func watchdogInterval() {
        func interval(_ extra: [String: String], pid: Int32 = 4242) -> Duration? {
            SystemdNotifier(environment: extra.merging(["NOTIFY_SOCKET": "@x"]) { $1 }, pid: pid).watchdogInterval
        }
        #expect(interval(["WATCHDOG_USEC": "30000000"]) == .seconds(30))
        #expect(interval(["WATCHDOG_USEC": "1500"]) == .microseconds(1500))
        #expect(interval(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "4242"]) == .seconds(30))
        #expect(interval(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "4243"]) == nil)
        #expect(interval(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "nope"]) == nil)
        #expect(interval([:]) == nil)
        #expect(interval(["WATCHDOG_USEC": "0"]) == nil)
        #expect(interval(["WATCHDOG_USEC": "-5"]) == nil)
        #expect(interval(["WATCHDOG_USEC": "30s"]) == nil)
        // The default pid is this process's own.
        let own = SystemdNotifier(environment: ["NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "\(getpid())"])
        #expect(own.watchdogInterval == .seconds(2))
    }
}
