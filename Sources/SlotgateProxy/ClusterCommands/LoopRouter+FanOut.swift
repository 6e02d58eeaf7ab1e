//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateRESP

/// Commands that one node cannot answer alone: multi-key commands split by slot, whole-keyspace
/// commands sent to every master, and the cluster-wide SCAN.
extension LoopRouter {
    /// Splits a multi-key command into one sub-command per slot (in the order the slots first
    /// appear), or forwards it untouched (`wire`) when all its keys share a slot.
    func split<Arguments: CommandArguments>(
        _ arguments: Arguments,
        wire: ByteBuffer,
        spec: CommandSpec,
        merge: CommandRole.SplitMerge,
        keyStep: Int,
        replySlot: ReplySlot
    ) {
        guard let partCount = self.groupKeys(of: arguments, keyStep: keyStep) else {
            replySlot.fillError(ProxyErrors.arity(spec.name))
            return
        }
        guard partCount > 1 else {
            var request = RoutedRequest(wire: wire, slot: self.grouping.partSlots.first, target: .client(replySlot))
            request.isReadOnly = spec.isReadOnly
            self.route(request)
            return
        }
        let fanOut = FanOut(replySlot: replySlot, merge: self.replyMerge(merge), partCount: partCount)
        let encoded = self.encodeParts(of: arguments, wireLength: wire.readableBytes, keyStep: keyStep)
        for part in 0..<partCount {
            var request = RoutedRequest(
                wire: self.partWire(part, in: encoded),
                slot: self.grouping.partSlots[part],
                target: .part(fanOut, index: part)
            )
            request.isReadOnly = spec.isReadOnly
            self.route(request)
        }
    }

    /// Groups a multi-key command's keys by slot (into `grouping`); the number of parts, or `nil`
    /// when the arguments after the name are not a whole number of `keyStep`-long key groups.
    func groupKeys<Arguments: CommandArguments>(of arguments: Arguments, keyStep: Int) -> Int? {
        let argumentCount = arguments.argumentCount
        guard (argumentCount - 1) % keyStep == 0 else { return nil }
        let keyCount = (argumentCount - 1) / keyStep
        self.grouping.group(keyCount: keyCount) { key in arguments.withArgument(1 + key * keyStep) { HashSlot(key: $0) } }
        return self.grouping.partCount
    }

    /// Writes the sub-command of each part `groupKeys` found into one buffer, sized once from the
    /// command's `wireLength`; each part is a slice of it (``partWire(_:in:)``).
    func encodeParts<Arguments: CommandArguments>(of arguments: Arguments, wireLength: Int, keyStep: Int) -> ByteBuffer {
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

    /// How the replies of the parts `groupKeys` found merge.
    func replyMerge(_ merge: CommandRole.SplitMerge) -> ReplyMerge {
        switch merge {
        case .valuesInKeyOrder: return .valuesInKeyOrder(partOfKey: self.grouping.partOfKey)
        case .allOK: return .allOK
        case .sum: return .sum
        }
    }

    /// Sends the same command to every master and merges their replies.
    func broadcast(_ wire: ByteBuffer, merge: ReplyMerge, replySlot: ReplySlot, view: ClusterView) {
        self.send(wire, to: view.slotMap.shards.map(\.master), merge: merge, replySlot: replySlot)
    }

    /// Sends the same command to each of `nodes` and merges their replies, in the order of `nodes`.
    func send(_ wire: ByteBuffer, to nodes: [NodeAddress], merge: ReplyMerge, replySlot: ReplySlot) {
        let fanOut = FanOut(replySlot: replySlot, merge: merge, partCount: nodes.count)
        for (index, node) in nodes.enumerated() {
            self.send(RoutedRequest(wire: wire, slot: nil, target: .part(fanOut, index: index)), to: node)
        }
    }

    /// One step of a cluster-wide SCAN: the master and node cursor come from the client's cursor
    /// (see ``ScanCursor``), the node's page goes back with the next client cursor.
    func scan(_ command: RESPCommand, replySlot: ReplySlot, view: ClusterView) {
        guard let cursor = UInt64(String(buffer: command.arguments[1])),
            let (master, nodeCursor, position) = ScanCursor.decode(cursor, in: view.slotMap)
        else {
            replySlot.fillError(ProxyErrors.invalidCursor)
            return
        }
        var nodeArguments = command.arguments
        nodeArguments[1] = ByteBuffer(string: String(nodeCursor))
        var wire = ByteBuffer()
        wire.writeRESPCommand(nodeArguments)
        let fanOut = FanOut(replySlot: replySlot, merge: .scanPage(position), partCount: 1)
        self.send(RoutedRequest(wire: wire, slot: nil, target: .part(fanOut, index: 0)), to: master)
    }
}
