//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// Facts about this build of Slotgate, shown by `slotgate --version` and `INFO`.
public enum SlotgateInfo {
    public static let version = "0.1.0"
}
