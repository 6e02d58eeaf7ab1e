//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster

/// Transactions over several slots (`cross-slot-transactions per-slot`): where a queued command
/// goes (the link, or its slot's group kept in Slotgate), and what the machine knows for `EXEC`.
extension TransactionStateMachine {
    enum PerSlotStep {
        /// The command goes on the transaction's link (or picks its node).
        case onLink
        /// A multi-key command over several slots: split it (``queueSplit(_:merge:)``).
        case split
        /// Kept in Slotgate for its slot's group (``keep(_:for:)``).
        case keep(HashSlot)
    }

    /// Under `per-slot`, where a queued command whose keys are in `slot` goes. `splits` tells
    /// whether the command can be split by slot when its keys span slots.
    func perSlotStep(slot: HashSlot?, spansSlots: Bool, splits: Bool) -> PerSlotStep {
        guard case .queuing(let queue) = self.state, let perSlot = queue.perSlot else { return .onLink }
        if spansSlots {
            return splits ? .split : .onLink
        }
        guard let slot else { return .onLink }
        if let node = queue.node {
            return slot != node.slot ? .keep(slot) : .onLink
        }
        return perSlot.hasOtherSlots ? .keep(slot) : .onLink
    }

    /// Keeps a command for `slot`'s group; Slotgate answers `+QUEUED`.
    mutating func keep(_ wire: ByteBuffer, for slot: HashSlot) {
        self.changeQueue { queue in
            queue.queued += 1
            queue.perSlot!.queue(wire, in: slot)
        }
    }

    /// A multi-key command split by slot: the part in the link's slot goes on the link (the
    /// returned requests), the others wait in their groups; `EXEC` merges the parts' replies.
    mutating func queueSplit(_ parts: [(wire: ByteBuffer, slot: HashSlot)], merge: ReplyMerge) -> [(Link, RoutedRequest)] {
        self.changeQueue { queue in
            var onLink: [(Link, RoutedRequest)] = []
            var places: [PerSlotQueue.Place] = []
            for part in parts {
                if var node = queue.node, part.slot == node.slot {
                    let request = RoutedRequest(wire: part.wire, slot: part.slot, target: .discard)
                    node.replayable?.append(request)
                    queue.node = node
                    onLink.append((node.link, request))
                    places.append(queue.perSlot!.placeOnLink())
                } else {
                    places.append(queue.perSlot!.place(part.wire, in: part.slot))
                }
            }
            queue.perSlot!.record(.merged(merge, places))
            queue.queued += 1
            return onLink
        }
    }

    /// Whether only keyless commands were queued and no node picked yet: `EXEC` needs a link to
    /// any master for them.
    var awaitsNodeForKeylessCommands: Bool {
        if case .queuing(let queue) = self.state { return queue.node == nil && !queue.deferred.isEmpty }
        return false
    }

    /// The transaction's watches, if any (it began with `WATCH`), held on its link.
    var watched: Bool {
        if case .queuing(let queue) = self.state { return queue.watched }
        return false
    }
}
