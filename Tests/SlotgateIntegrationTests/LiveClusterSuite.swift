//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Testing

/// Every test that needs a live cluster lives in a suite nested in this one, so the whole run
/// shares one 6-node cluster and one proxy, and the tests run one after another: some of them
/// move slots or cut links, which would disturb a test running beside them.
@Suite(.liveCluster, .serialized)
enum LiveClusterSuite {}
