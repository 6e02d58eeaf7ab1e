//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// What the topology monitor last found, for the admin port's health check and metrics: an
/// immutable value replaced after every refresh.
public struct MonitorStatus: Sendable {
    /// Refreshes tried since start, successful or not.
    public var refreshes = 0
    /// Refreshes in which no node could be asked.
    public var failedRefreshes = 0
    /// Masters of the current map that did not answer the last refresh.
    public var unreachableMasters: Set<NodeAddress> = []
    /// Why the last refresh failed, if it did.
    public var lastFailure: String?

    public init() {}
}
