//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOConcurrencyHelpers
import SlotgateCluster

/// The address Slotgate announces as its own (in `CLUSTER SLOTS` and friends), known only once
/// the listener is bound, because the port may be chosen by the system.
///
/// Read only by the rare `CLUSTER` commands, so a lock is fine here.
package final class ProxyIdentity: Sendable {
    private let address = NIOLockedValueBox(NodeAddress(host: "127.0.0.1", port: 0))

    package init() {}

    var announcedAddress: NodeAddress {
        self.address.withLockedValue { $0 }
    }

    func announce(_ address: NodeAddress) {
        self.address.withLockedValue { $0 = address }
    }
}
