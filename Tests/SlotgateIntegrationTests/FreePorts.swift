//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

#if canImport(Glibc)
    import Glibc
#endif

/// Finds loopback ports nobody listens on, so test clusters never collide with anything else
/// running on the machine (a developer's cluster on 7000, another test run).
enum FreePorts {
    /// A base port such that `base..<base+count` and the same ports plus `busOffset` are all free.
    static func findBase(count: Int, busOffset: Int) throws -> Int {
        for _ in 0..<200 {
            // Below 32768 with the bus ports too: the kernel hands out ports above that to
            // outgoing connections, which could take a bus port between check and use.
            let base = Int.random(in: 10000...(32767 - busOffset - count))
            let ports = Array(base..<(base + count)) + Array((base + busOffset)..<(base + busOffset + count))
            if ports.allSatisfy(isFree) { return base }
        }
        throw HarnessError("no free port range found")
    }

    /// Whether a TCP socket can bind `127.0.0.1:port` right now.
    static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
