//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// Which clients a `CLIENT KILL` names, as a value every loop can check its clients against.
struct ClientFilter: Sendable {
    var id: Int?
    var address: String?
    /// The id of the client asking, spared unless `SKIPME no`.
    var skip: Int?

    func matches(id: Int, address: String) -> Bool {
        (self.id == nil || self.id == id) && (self.address == nil || self.address == address) && self.skip != id
    }
}
