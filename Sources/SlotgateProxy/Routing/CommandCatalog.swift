//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateCluster

/// The cluster's commands as one event loop looks them up on the hot path: found by the bytes of
/// the name, with what the proxy does with each decided once, when the table arrives, instead of
/// once per command.
///
/// Built from the ``CommandTable`` of the current view whenever a view brings a new table. Each
/// entry knows whether a command may take the fast path (routed by its keys to one slot's master,
/// nothing for the session or the built-in ``CommandRole`` table to do), where its key is when it
/// has exactly one at a fixed place, and its index in the loop's per-command counters.
final class CommandCatalog {
    /// One top-level command.
    final class Entry {
        let spec: CommandSpec
        /// Where this command is counted in ``LoopStats``.
        let statIndex: Int
        /// Whether it goes straight to its keys' master when the session is in no special state.
        let isFastRoutable: Bool
        /// The argument index of its only key, when it has exactly one at a fixed place (`GET k`).
        let singleKeyIndex: Int?
        /// How it splits by slot, for `MGET`, `MSET` and their like.
        let split: (merge: CommandRole.SplitMerge, keyStep: Int)?

        init(spec: CommandSpec, statIndex: Int) {
            self.spec = spec
            self.statIndex = statIndex
            self.isFastRoutable =
                !ClientSession.handledNames.contains(spec.name) && spec.subcommands.isEmpty && CommandRole.of(spec.name) == nil
                && !spec.needsKeyLookup && !CommandPlanner.mayBlock(spec) && !spec.keySpecs.isEmpty
            self.singleKeyIndex = Self.singleKeyIndex(of: spec.keySpecs)
            if case .split(let merge, let keyStep) = CommandRole.of(spec.name) {
                self.split = (merge, keyStep)
            } else {
                self.split = nil
            }
        }

        private static func singleKeyIndex(of keySpecs: [KeySpec]) -> Int? {
            guard keySpecs.count == 1, case .index(let index) = keySpecs[0].beginSearch,
                case .range(lastKey: 0, step: _, limit: _) = keySpecs[0].findKeys, !keySpecs[0].isFlaggedIncomplete
            else { return nil }
            return index
        }
    }

    /// The table the catalog was built from.
    let generation: Int
    /// Entries in the order of their stat index.
    let entries: [Entry]
    private let index: CommandNameIndex

    init(_ table: CommandTable) {
        self.generation = table.generation
        self.entries = table.specs.sorted { $0.name < $1.name }.enumerated().map { Entry(spec: $1, statIndex: $0) }
        self.index = CommandNameIndex(names: self.entries.map(\.spec.name))
    }

    /// The command whose name is `name` (any ASCII case); `nil` for names the cluster does not know
    /// or too long for the index (the slow path finds those).
    func entry(named name: UnsafeRawBufferPointer) -> Entry? {
        self.index.position(of: name).map { self.entries[$0] }
    }
}
