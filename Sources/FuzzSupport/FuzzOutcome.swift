//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// What a parser made of a whole fuzz input: the items it produced, in order, and whether it
/// stopped at an error.
///
/// The fuzz targets parse each input twice, in one read and cut into many (``fuzzReads(_:)``),
/// and the two runs must agree: how the bytes are cut into reads must not change what they mean.
public struct FuzzOutcome<Item: Equatable> {
    public var items: [Item] = []
    public var failed = false

    public init() {}

    /// Crashes unless `other`, a run over the same bytes cut differently, produced the same items.
    /// An error may come at a different point (a limit on buffered bytes depends on the cutting),
    /// so the two need only agree on the items both produced, and a run that did not fail must
    /// have produced at least as many as the other.
    public func checkAgrees(with other: FuzzOutcome<Item>) {
        let common = min(self.items.count, other.items.count)
        precondition(self.items.prefix(common) == other.items.prefix(common), "the cutting into reads changed an item")
        precondition(self.failed || self.items.count >= other.items.count, "the cutting into reads lost items")
        precondition(other.failed || other.items.count >= self.items.count, "the cutting into reads lost items")
    }
}
