//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateCluster
import Testing

/// Protects node addresses, the keys of node links and the slot map: `host:port` text in
/// redirects, configuration and logs must parse to, and print from, the same value.
@Suite("NodeAddress")
struct NodeAddressTests {
    @Test(
        "host:port, [v6]:port and bare v6 with a port parse",
        arguments: [
            ("127.0.0.1:7000", "127.0.0.1", 7000), ("localhost:6379", "localhost", 6379), ("redis-0.example.com:1", "redis-0.example.com", 1),
            ("[::1]:7000", "::1", 7000), ("::1:7000", "::1", 7000), ("[2001:db8::10]:65535", "2001:db8::10", 65535),
        ] as [(String, String, Int)]
    )
    func parses(text: String, host: String, port: Int) throws {
        let address = try #require(NodeAddress(text))
        #expect(address.host == host)
        #expect(address.port == port)
    }

    @Test(
        "missing or invalid ports and empty hosts are rejected",
        arguments: [
            "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:abc", "127.0.0.1:70000",
            ":7000", "[]:7000", "", "[::1]", "host:7000x",
        ]
    )
    func rejects(text: String) {
        #expect(NodeAddress(text) == nil)
    }

    @Test("description prints host:port, bracketing IPv6 hosts")
    func description() {
        #expect(NodeAddress(host: "127.0.0.1", port: 7000).description == "127.0.0.1:7000")
        #expect(NodeAddress(host: "::1", port: 7000).description == "[::1]:7000")
        #expect("\(NodeAddress(host: "node-a", port: 1))" == "node-a:1")
    }

    @Test("description parses back to the same address", arguments: ["127.0.0.1:7000", "[::1]:7000", "::1:7000", "db.local:65535", "[fe80::1:2]:1"])
    func roundTrip(text: String) throws {
        let address = try #require(NodeAddress(text))
        #expect(NodeAddress(address.description) == address)
    }

    @Test("a Substring parses like a String")
    func substring() {
        let text = "MOVED 1 10.1.2.3:7001"
        #expect(NodeAddress(text.split(separator: " ")[2]) == NodeAddress(host: "10.1.2.3", port: 7001))
    }

    @Test("addresses are hashable values")
    func hashable() {
        let set: Set = [NodeAddress(host: "a", port: 1), NodeAddress(host: "a", port: 1), NodeAddress(host: "a", port: 2)]
        #expect(set.count == 2)
    }
}
