//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// The release this binary was built from, shown by `slotgate --version`.
enum SlotgateVersion {
    static let current = "0.1.0"
}
