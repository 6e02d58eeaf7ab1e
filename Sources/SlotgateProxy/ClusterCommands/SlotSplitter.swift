//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateRESP

/// Cuts a multi-key command (`MGET`, `MSET`, `DEL`, …) into one sub-command per slot, in the
/// order the slots first appear, and says how the parts' replies merge. Used for commands split
/// on their way to the nodes and for those queued in a per-slot transaction.
///
/// Its working memory is kept from one command to the next (one splitter per loop), so splitting
/// allocates only the buffer the sub-commands are written into.
struct SlotSplitter {
    private var grouping = SlotGrouping()
    private var partEnds: [Int] = []

    /// Each part's slot, for the command last grouped.
    var partSlots: [HashSlot] { self.grouping.partSlots }

    /// Groups a multi-key command's keys by slot; the number of parts, or `nil` when the arguments
    /// after the name are not a whole number of `keyStep`-long key groups.
    mutating func groupKeys<Arguments: CommandArguments>(of arguments: Arguments, keyStep: Int) -> Int? {
        let argumentCount = arguments.argumentCount
        guard (argumentCount - 1) % keyStep == 0 else { return nil }
        let keyCount = (argumentCount - 1) / keyStep
        self.grouping.group(keyCount: keyCount) { key in arguments.withArgument(1 + key * keyStep) { HashSlot(key: $0) } }
        return self.grouping.partCount
    }

    /// Writes the sub-command of each part ``groupKeys(of:keyStep:)`` found into one buffer, sized
    /// once from the command's `wireLength`; each part is a slice of it (``partWire(_:in:)``).
    mutating func encodeParts<Arguments: CommandArguments>(of arguments: Arguments, wireLength: Int, keyStep: Int) -> ByteBuffer {
        let partCount = self.grouping.partCount
        let nameLength = arguments.withArgument(0) { $0.count }
        var encoded = ByteBufferAllocator().buffer(capacity: wireLength + partCount * (nameLength + 32))
        self.partEnds.removeAll(keepingCapacity: true)
        for part in 0..<partCount {
            encoded.writeRESPArrayHeader(count: 1 + self.grouping.keyCounts[part] * keyStep)
            encoded.writeRESPBulkString(argument: 0, of: arguments)
            self.grouping.forEachKey(of: part) { key in
                for argument in (1 + key * keyStep)..<(1 + (key + 1) * keyStep) {
                    encoded.writeRESPBulkString(argument: argument, of: arguments)
                }
            }
            self.partEnds.append(encoded.writerIndex)
        }
        return encoded
    }

    /// Part `part`'s sub-command in what ``encodeParts(of:wireLength:keyStep:)`` wrote.
    func partWire(_ part: Int, in encoded: ByteBuffer) -> ByteBuffer {
        let start = part == 0 ? encoded.readerIndex : self.partEnds[part - 1]
        return encoded.getSlice(at: start, length: self.partEnds[part] - start)!
    }

    /// How the replies of the parts ``groupKeys(of:keyStep:)`` found merge.
    func replyMerge(_ merge: CommandRole.SplitMerge) -> ReplyMerge {
        switch merge {
        case .valuesInKeyOrder: return .valuesInKeyOrder(partOfKey: self.grouping.partOfKey)
        case .allOK: return .allOK
        case .sum: return .sum
        }
    }
}
