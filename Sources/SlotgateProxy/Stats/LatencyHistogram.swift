//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Histogram

/// Latencies in microseconds, from 1 µs to an hour, to two significant digits (1%): an HDR
/// histogram records each value in constant time and about 20 KB, and histograms of several
/// event loops add up exactly.
public struct LatencyHistogram: Sendable {
    private var histogram = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .two)

    public init() {}

    /// Records one latency.
    mutating func record(microseconds: Int64) {
        _ = self.histogram.record(UInt64(min(max(microseconds, 1), 3_600_000_000)))
    }

    /// Adds another histogram's values to this one.
    mutating func add(_ other: LatencyHistogram) {
        self.histogram.add(other.histogram)
    }

    /// How many latencies were recorded.
    public var count: UInt64 { self.histogram.totalCount }

    /// The latency at `percentile` (0…100), in microseconds; 0 when nothing was recorded.
    public func microseconds(atPercentile percentile: Double) -> UInt64 {
        self.count == 0 ? 0 : self.histogram.valueAtPercentile(percentile)
    }

    /// The percentiles operators read: p50, p90, p99 and p99.9.
    public static let reportedPercentiles: [(label: String, value: Double)] = [("0.5", 50), ("0.9", 90), ("0.99", 99), ("0.999", 99.9)]
}
