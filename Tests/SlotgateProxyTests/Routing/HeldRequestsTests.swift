//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import Testing

@testable import SlotgateProxy

/// Protects the failover hold's book-keeping: order kept, per-node waiting known, bytes capped.
@Suite("HeldRequests")
struct HeldRequestsTests {
    static let dead = NodeAddress(host: "127.0.0.1", port: 7000)
    static let alive = NodeAddress(host: "127.0.0.1", port: 7001)

    static func request(_ text: String) -> RoutedRequest {
        RoutedRequest(wire: ByteBuffer(string: text), slot: nil, target: .discard)
    }

    @Test("requests come back oldest first, and the hold is empty afterwards")
    func orderKept() {
        var held = HeldRequests(byteBudget: 1000)
        let accepted = [
            held.hold(Self.request("one"), for: Self.dead),
            held.hold(Self.request("two"), for: Self.alive),
            held.hold(Self.request("three"), for: Self.dead),
        ]
        #expect(accepted == [true, true, true])
        #expect(held.isHolding(for: Self.dead) && held.isHolding(for: Self.alive))
        let released = held.releaseAll()
        #expect(released.map { String(buffer: $0.request.wire) } == ["one", "two", "three"])
        #expect(released.map(\.node) == [Self.dead, Self.alive, Self.dead])
        #expect(held.isEmpty && !held.isHolding(for: Self.dead))
    }

    @Test("past the byte budget a request is refused; releasing frees the budget")
    func budget() {
        var held = HeldRequests(byteBudget: 10)
        let accepted = [
            held.hold(Self.request("123456"), for: Self.dead),
            held.hold(Self.request("12345"), for: Self.dead),
            held.hold(Self.request("1234"), for: Self.dead),
        ]
        #expect(accepted == [true, false, true])
        _ = held.releaseAll()
        let acceptedAfterRelease = held.hold(Self.request("1234567890"), for: Self.dead)
        #expect(acceptedAfterRelease)
    }
}
