//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster

/// The commands of a transaction under `cross-slot-transactions per-slot`, grouped by slot, and
/// where each one's reply will be found when `EXEC` has run them.
///
/// Group 0 is the transaction's own link: the commands in its slot (that of the first key, or of
/// the `WATCH`), and those without keys, go there as they come and its node answers them, just as
/// in a one-slot transaction. The commands for every other slot wait here, answered `+QUEUED` by
/// Slotgate, until `EXEC` runs each slot's share as its own `MULTI`…`EXEC` (see ``CrossSlotExec``).
struct PerSlotQueue {
    /// Where a reply will be: element `index` of group `group`'s `EXEC` reply.
    struct Place: Equatable {
        let group: Int
        let index: Int
    }

    /// The reply to one command the client queued: one place, or, for a multi-key command split by
    /// slot, its parts' places and how their replies merge.
    enum Entry {
        case one(Place)
        case merged(ReplyMerge, [Place])
    }

    /// One slot's commands, other than the link's, as the bytes to send.
    struct Group {
        let slot: HashSlot
        var commands: [ByteBuffer] = []
    }

    /// Commands sent on the transaction's link since `MULTI` (group 0).
    private(set) var commandsOnLink = 0
    /// Groups 1, 2, …: the other slots, in the order they first appeared.
    private(set) var otherGroups: [Group] = []
    /// Every queued command's reply, in the client's order.
    private(set) var entries: [Entry] = []

    /// Whether any command waits for a slot other than the link's.
    var hasOtherSlots: Bool { !self.otherGroups.isEmpty }

    /// How many commands group `group`'s `EXEC` runs.
    func commandCount(ofGroup group: Int) -> Int {
        group == 0 ? self.commandsOnLink : self.otherGroups[group - 1].commands.count
    }

    /// The place of the next command sent on the link.
    mutating func placeOnLink() -> Place {
        defer { self.commandsOnLink += 1 }
        return Place(group: 0, index: self.commandsOnLink)
    }

    /// Keeps `command` for `slot`'s group, made on its first command; its place.
    mutating func place(_ command: ByteBuffer, in slot: HashSlot) -> Place {
        let index = self.otherGroups.firstIndex { $0.slot == slot } ?? self.otherGroups.endIndex
        if index == self.otherGroups.endIndex {
            self.otherGroups.append(Group(slot: slot))
        }
        self.otherGroups[index].commands.append(command)
        return Place(group: index + 1, index: self.otherGroups[index].commands.count - 1)
    }

    /// Notes the reply of the client's next queued command.
    mutating func record(_ entry: Entry) {
        self.entries.append(entry)
    }

    /// A command sent on the link, with a reply of its own.
    mutating func queueOnLink() {
        self.record(.one(self.placeOnLink()))
    }

    /// A command kept for `slot`'s group, with a reply of its own.
    mutating func queue(_ command: ByteBuffer, in slot: HashSlot) {
        self.record(.one(self.place(command, in: slot)))
    }
}
