//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOConcurrencyHelpers
import NIOCore

/// Failed `AUTH` attempts by client address, shared by every event loop.
///
/// A password must not be guessable at network speed: past `auth-failure-limit` failures from
/// one address within a minute, that address's further attempts are refused unchecked until the
/// minute is over. Failures are rare, so one lock is cheap. It also keeps the totals the admin
/// port reports.
package final class AuthFailureLimiter: Sendable {
    /// How long failures from one address are remembered.
    static let window = TimeAmount.seconds(60)
    /// Addresses remembered at most; the stalest are forgotten past it.
    static let maxAddresses = 10_000

    /// Failures since start, and attempts refused unchecked.
    package struct Totals: Sendable {
        var failures = 0
        var refusals = 0
    }

    private struct State {
        var windows: [String: (start: NIODeadline, failures: Int)] = [:]
        var totals = Totals()
    }

    private let state = NIOLockedValueBox(State())

    package init() {}

    var totals: Totals { self.state.withLockedValue { $0.totals } }

    /// The error for an attempt from `host` when it already failed `limit` times this minute
    /// (the refusal is counted); `nil` when the attempt may be checked. A `limit` of 0 never refuses.
    func refusal(for host: Substring, limit: Int, now: NIODeadline) -> String? {
        guard limit > 0 else { return nil }
        return self.state.withLockedValue { state in
            guard let window = state.windows[String(host)], now - window.start < Self.window, window.failures >= limit else { return nil }
            state.totals.refusals += 1
            let seconds = (Self.window - (now - window.start)).nanoseconds / 1_000_000_000 + 1
            return ProxyErrors.tooManyAuthFailures(seconds: Int(seconds))
        }
    }

    /// Counts a failed attempt from `host`.
    func recordFailure(from host: Substring, now: NIODeadline) {
        self.state.withLockedValue { state in
            state.totals.failures += 1
            let host = String(host)
            if let window = state.windows[host], now - window.start < Self.window {
                state.windows[host] = (window.start, window.failures + 1)
                return
            }
            if state.windows.count >= Self.maxAddresses {
                state.windows = state.windows.filter { now - $0.value.start < Self.window }
            }
            if state.windows.count < Self.maxAddresses {
                state.windows[host] = (now, 1)
            }
        }
    }
}
