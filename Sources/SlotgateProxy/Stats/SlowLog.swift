//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import DequeModule
import SlotgateCluster
import Synchronization

/// Commands that took longer than `slowlog-log-slower-than`, newest first, as Redis's own
/// `SLOWLOG` keeps them: which command, its first key, the node that served it, how long the
/// client waited and who the client was. One per event loop; `PROXY SLOWLOG GET` merges them.
struct SlowLog {
    /// One slow command.
    ///
    /// It keeps what the reply path has at hand as it is (the node as an address, not yet text):
    /// under load every command may be slow, and most entries are dropped unread.
    struct Entry: Sendable {
        var id: Int
        /// Unix time, seconds, when the reply left.
        var timestamp: Int
        var durationMicroseconds: Int64
        var command: String
        /// The first key (or argument), cut to 64 bytes.
        var firstKey: String
        /// The master of the first key's slot when the reply left; `nil` for commands that went
        /// to several nodes or none.
        var node: NodeAddress?
        var client: String
    }

    /// Oldest first, so that adding one is an append and dropping the oldest costs the same,
    /// however long the log (a loaded proxy may add an entry per command).
    private var oldestFirst = Deque<Entry>()

    /// The entries, newest first.
    var entries: [Entry] { Array(self.oldestFirst.reversed()) }
    /// Ids grow across all event loops, so merged logs keep Redis's unique, rising ids.
    private static let nextID = Atomic<Int>(0)

    /// Keeps `entry` (its id is assigned here), dropping the oldest past `maxLength`.
    mutating func add(_ entry: Entry, maxLength: Int) {
        var entry = entry
        entry.id = Self.nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        self.oldestFirst.append(entry)
        while self.oldestFirst.count > max(maxLength, 0) {
            self.oldestFirst.removeFirst()
        }
    }

    mutating func reset() {
        self.oldestFirst.removeAll()
    }
}
