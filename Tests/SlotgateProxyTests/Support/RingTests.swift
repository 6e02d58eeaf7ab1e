//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Testing

@testable import SlotgateProxy

/// Protects the queue under every request in flight and every reply place: order kept across
/// growth while the elements wrap around the end of the storage, and elements destroyed once.
@Suite("Ring")
struct RingTests {
    @Test("elements come out in the order they went in, across growth while wrapped")
    func orderSurvivesGrowthWhileWrapped() {
        let ring = Ring<Int>()
        var expected: [Int] = []
        var next = 0
        // Take out less than is put in each time, so the front walks round the storage while it
        // doubles several times.
        for _ in 0..<50 {
            for _ in 0..<5 {
                ring.append(next)
                expected.append(next)
                next += 1
            }
            for _ in 0..<3 {
                #expect(ring.popFirst() == expected.removeFirst())
            }
        }
        #expect(ring.count == expected.count)
        for offset in 0..<expected.count {
            #expect(ring[offset] == expected[offset])
        }
        ring[0] = -1
        #expect(ring.popFirst() == -1)
        expected.removeFirst()
        var rest: [Int] = []
        while let element = ring.popFirst() {
            rest.append(element)
        }
        #expect(rest == expected)
        #expect(ring.isEmpty)
    }

    @Test("every element is destroyed exactly once: popped, cleared or with the ring")
    func elementsAreReleased() {
        let tracker = LifeCounter()
        do {
            let ring = Ring<Tracked>()
            for _ in 0..<10 {
                ring.append(Tracked(tracker))
            }
            _ = ring.popFirst()
            #expect(tracker.alive == 9)
            ring.removeAll()
            #expect(tracker.alive == 0)
            for _ in 0..<7 {
                ring.append(Tracked(tracker))
            }
            #expect(tracker.alive == 7)
        }
        #expect(tracker.alive == 0)
    }

    /// How many ``Tracked`` values exist.
    final class LifeCounter {
        var alive = 0
    }

    /// A value that counts itself in and out of existence.
    final class Tracked {
        private let counter: LifeCounter

        init(_ counter: LifeCounter) {
            self.counter = counter
            counter.alive += 1
        }

        deinit {
            self.counter.alive -= 1
        }
    }
}
