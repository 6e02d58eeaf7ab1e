//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateRESP
import Testing

/// Protects how `-MOVED` and `-ASK` replies are read: a misread redirect loses the command or
/// sends it to the wrong node.
@Suite("Redirect")
struct RedirectTests {
    @Test("MOVED gives the slot and the node that owns it now")
    func moved() throws {
        let redirect = try #require(Redirect(errorText: "MOVED 3999 127.0.0.1:6381"))
        #expect(redirect.kind == .moved)
        #expect(redirect.slot.rawValue == 3999)
        #expect(redirect.target == NodeAddress(host: "127.0.0.1", port: 6381))
    }

    @Test("ASK gives the slot and the node to ask once")
    func ask() throws {
        let redirect = try #require(Redirect(errorText: "ASK 12182 10.0.0.7:7002"))
        #expect(redirect.kind == .ask)
        #expect(redirect.slot.rawValue == 12182)
        #expect(redirect.target == NodeAddress(host: "10.0.0.7", port: 7002))
    }

    @Test("slot edges 0 and 16383 parse")
    func slotEdges() {
        #expect(Redirect(errorText: "MOVED 0 h:1")?.slot.rawValue == 0)
        #expect(Redirect(errorText: "MOVED 16383 h:1")?.slot.rawValue == 16383)
    }

    @Test("IPv6 targets parse, bracketed or bare as Redis prints them")
    func ipv6() throws {
        let bracketed = try #require(Redirect(errorText: "MOVED 3999 [::1]:7000"))
        #expect(bracketed.target == NodeAddress(host: "::1", port: 7000))
        let bare = try #require(Redirect(errorText: "ASK 1 fe80::1:7001"))
        #expect(bare.target == NodeAddress(host: "fe80::1", port: 7001))
        #expect(bare.kind == .ask)
    }

    @Test("host names parse as they are")
    func hostName() {
        #expect(Redirect(errorText: "MOVED 42 redis-2.cluster.local:6379")?.target == NodeAddress(host: "redis-2.cluster.local", port: 6379))
    }

    @Test(
        "anything that is not exactly 'MOVED|ASK slot host:port' gives nil",
        arguments: [
            "", "MOVED", "MOVED 3999", "MOVED 3999 127.0.0.1", "MOVED abc 127.0.0.1:6381", "MOVED 16384 127.0.0.1:6381",
            "MOVED -1 127.0.0.1:6381", "MOVED 1 127.0.0.1:0", "MOVED 1 127.0.0.1:65536",
            "MOVED 1 127.0.0.1:6381 extra", "moved 1 127.0.0.1:6381", "ERR unknown command",
            "TRYAGAIN Multiple keys request during rehashing of slot",
            "CLUSTERDOWN Hash slot not served", "ASKING 1 h:1",
        ]
    )
    func junk(text: String) {
        #expect(Redirect(errorText: text) == nil)
    }

    @Test("redirects are values: equal when kind, slot and target are")
    func equality() {
        #expect(Redirect(errorText: "MOVED 1 h:1") == Redirect(errorText: "MOVED 1 h:1"))
        #expect(Redirect(errorText: "MOVED 1 h:1") != Redirect(errorText: "ASK 1 h:1"))
        #expect(Redirect(errorText: "MOVED 1 h:1") != Redirect(errorText: "MOVED 2 h:1"))
    }

    @Test("a Substring of a larger text parses")
    func substring() {
        let line = "-MOVED 5 h:2\r\n"
        let text = line.dropFirst().dropLast()  // "\r\n" is a single Character
        #expect(Redirect(errorText: text)?.slot.rawValue == 5)
    }

    @Test("a node's framed reply: MOVED and ASK errors are redirects, nothing else is")
    func framedReplies() throws {
        func reply(_ kind: RESPReplyKind, _ text: String) -> FramedReply {
            FramedReply(kind: kind, bytes: ByteBuffer(string: text))
        }
        let moved = try #require(Redirect(reply: reply(.error, "-MOVED 3999 127.0.0.1:6381\r\n")))
        #expect(moved.kind == .moved && moved.slot.rawValue == 3999 && moved.target == NodeAddress(host: "127.0.0.1", port: 6381))
        #expect(Redirect(reply: reply(.error, "-ASK 7 10.0.0.7:7002\r\n"))?.kind == .ask)
        #expect(Redirect(reply: reply(.simpleString, "+MOVED 1 h:1\r\n")) == nil)
        #expect(Redirect(reply: reply(.error, "-MOVEDX 1 h:1\r\n")) == nil)
        #expect(Redirect(reply: reply(.error, "-MOVED soon\r\n")) == nil)
        #expect(Redirect(reply: reply(.error, "-ERR MOVED 1 h:1\r\n")) == nil)
    }
}
