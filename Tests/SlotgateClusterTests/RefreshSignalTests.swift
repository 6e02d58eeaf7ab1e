//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import Testing

@testable import SlotgateCluster

/// Protects the monitor thread's doorbell: a refresh waits for the deadline unless asked for, a
/// request is served no sooner than the minimum interval allows, and a stop ends every wait.
@Suite("RefreshSignal")
struct RefreshSignalTests {
    private let clock = ContinuousClock()

    @Test("without a request the wait lasts until the deadline")
    func deadline() {
        let signal = RefreshSignal()
        let start = self.clock.now
        #expect(signal.waitForRefresh(earliest: start, deadline: start + .milliseconds(100)))
        #expect(self.clock.now - start >= .milliseconds(100))
    }

    @Test("a request is served at once when the minimum interval has passed")
    func requestDue() {
        let signal = RefreshSignal()
        let start = self.clock.now
        signal.request()
        #expect(signal.waitForRefresh(earliest: start, deadline: start + .seconds(10)))
        #expect(self.clock.now - start < .seconds(5))
    }

    @Test("a request is held until the minimum interval has passed, and many fold into one")
    func requestEarly() {
        let signal = RefreshSignal()
        let start = self.clock.now
        for _ in 0..<100 { signal.request() }
        #expect(signal.waitForRefresh(earliest: start + .milliseconds(100), deadline: start + .seconds(10)))
        let waited = self.clock.now - start
        #expect(waited >= .milliseconds(100) && waited < .seconds(5))
        let next = self.clock.now
        #expect(signal.waitForRefresh(earliest: next, deadline: next + .milliseconds(50)))
        #expect(self.clock.now - next >= .milliseconds(50), "the folded requests asked for a second refresh")
    }

    @Test("a request from another thread wakes a waiting monitor early")
    func wakesEarly() {
        let signal = RefreshSignal()
        let start = self.clock.now
        Self.afterPause { signal.request() }
        #expect(signal.waitForRefresh(earliest: start, deadline: start + .seconds(10)))
        #expect(self.clock.now - start < .seconds(5))
    }

    @Test("a stop ends the current wait and every later one")
    func stop() {
        let signal = RefreshSignal()
        let start = self.clock.now
        Self.afterPause { signal.stop() }
        #expect(!signal.waitForRefresh(earliest: start, deadline: start + .seconds(10)))
        #expect(!signal.waitForRefresh(earliest: start, deadline: start))
        #expect(self.clock.now - start < .seconds(5))
    }

    /// Runs `body` 50 ms from now on a thread of its own, as an event loop would ring: the waits
    /// above block their thread, and the tests running beside them may block the others.
    private static func afterPause(_ body: @escaping @Sendable () -> Void) {
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 0.05)
            body()
        }
    }
}
