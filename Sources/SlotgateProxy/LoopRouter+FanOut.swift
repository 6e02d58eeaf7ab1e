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
    /// appear), or forwards it untouched when all its keys share a slot.
    func split(_ command: RESPCommand, spec: CommandSpec, merge: CommandRole.SplitMerge, keyStep: Int, replySlot: ReplySlot) {
        let arguments = command.arguments
        guard (arguments.count - 1) % keyStep == 0 else {
            replySlot.fillError(ProxyErrors.arity(spec.name))
            return
        }
        var partBySlot: [HashSlot: Int] = [:]
        var parts: [(slot: HashSlot, arguments: [ByteBuffer], positions: [Int])] = []
        var keyIndex = 1
        while keyIndex + keyStep <= arguments.count {
            let slot = arguments[keyIndex].withUnsafeReadableBytes { HashSlot(key: $0) }
            let part: Int
            if let known = partBySlot[slot] {
                part = known
            } else {
                part = parts.count
                partBySlot[slot] = part
                parts.append((slot, [arguments[0]], []))
            }
            parts[part].arguments += arguments[keyIndex..<(keyIndex + keyStep)]
            parts[part].positions.append((keyIndex - 1) / keyStep)
            keyIndex += keyStep
        }
        guard parts.count > 1 else {
            var request = RoutedRequest(wire: command.wire, slot: parts.first?.slot, target: .client(replySlot))
            request.isReadOnly = spec.isReadOnly
            self.route(request)
            return
        }
        let replyMerge: ReplyMerge
        switch merge {
        case .valuesInKeyOrder: replyMerge = .valuesInKeyOrder(positions: parts.map(\.positions), total: (arguments.count - 1) / keyStep)
        case .allOK: replyMerge = .allOK
        case .sum: replyMerge = .sum
        }
        let fanOut = FanOut(replySlot: replySlot, merge: replyMerge, partCount: parts.count)
        for (index, part) in parts.enumerated() {
            var wire = ByteBuffer()
            wire.writeRESPCommand(part.arguments)
            var request = RoutedRequest(wire: wire, slot: part.slot, target: .part(fanOut, index: index))
            request.isReadOnly = spec.isReadOnly
            self.route(request)
        }
    }

    /// Sends the same command to every master and merges their replies.
    func broadcast(_ wire: ByteBuffer, merge: ReplyMerge, replySlot: ReplySlot, view: ClusterView) {
        let masters = view.slotMap.shards.map(\.master)
        let fanOut = FanOut(replySlot: replySlot, merge: merge, partCount: masters.count)
        for (index, master) in masters.enumerated() {
            self.send(RoutedRequest(wire: wire, slot: nil, target: .part(fanOut, index: index)), to: master)
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

    /// `INFO` from every master, merged; a full report starts with a section about Slotgate.
    func info(_ command: RESPCommand, replySlot: ReplySlot, view: ClusterView) {
        let sections = command.arguments.dropFirst().map { String(buffer: $0).lowercased() }
        let full = sections.isEmpty || sections.contains { ["all", "everything", "default", "slotgate"].contains($0) }
        let proxySection =
            full
            ? [
                "slotgate_version:\(SlotgateInfo.version)", "announced_address:\(self.identity.announcedAddress)",
                "cluster_masters:\(view.slotMap.shards.count)", "slot_map_version:\(view.version)",
            ] : nil
        self.broadcast(command.wire, merge: .info(proxySection: proxySection), replySlot: replySlot, view: view)
    }
}
