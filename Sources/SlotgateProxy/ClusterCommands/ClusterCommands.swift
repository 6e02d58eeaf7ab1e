//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateRESP

/// Commands that one node cannot answer alone, carried out for one event loop: multi-key commands
/// split by slot, whole-keyspace commands sent to every master, commands for every node, and the
/// cluster-wide SCAN (see also `ClusterCommands+Info` and `+ScriptKill`).
///
/// Each sends its parts through the loop's router and merges the replies in a ``FanOut``.
final class ClusterCommands {
    unowned(unsafe) let loop: ProxyLoop
    /// Working memory for splitting commands by slot, reused for every command of the loop.
    var splitter = SlotSplitter()

    init(loop: ProxyLoop) {
        self.loop = loop
    }

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
        guard let partCount = self.splitter.groupKeys(of: arguments, keyStep: keyStep) else {
            replySlot.fillError(ProxyErrors.arity(spec.name))
            return
        }
        guard partCount > 1 else {
            var request = RoutedRequest(wire: wire, slot: self.splitter.partSlots.first, target: .client(replySlot))
            request.isReadOnly = spec.isReadOnly
            self.loop.router.route(request)
            return
        }
        let fanOut = FanOut(replySlot: replySlot, merge: self.splitter.replyMerge(merge), partCount: partCount)
        let encoded = self.splitter.encodeParts(of: arguments, wireLength: wire.readableBytes, keyStep: keyStep)
        for part in 0..<partCount {
            var request = RoutedRequest(
                wire: self.splitter.partWire(part, in: encoded),
                slot: self.splitter.partSlots[part],
                target: .part(fanOut, index: part)
            )
            request.isReadOnly = spec.isReadOnly
            self.loop.router.route(request)
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
            self.loop.router.send(RoutedRequest(wire: wire, slot: nil, target: .part(fanOut, index: index)), to: node)
        }
    }

    /// `CONFIG SET` of `parameters` (checked by the planner) on every node, masters and replicas,
    /// as one server would take it (see ``NodeConfigChange``).
    func configSet(_ wire: ByteBuffer, parameters: [(name: String, value: String)], replySlot: ReplySlot, view: ClusterView) {
        let nodes = view.slotMap.allNodes
        let change = NodeConfigChange(nodes: nodes, parameters: parameters, settings: self.loop.monitor.nodeSettings)
        self.send(wire, to: nodes, merge: .configSet(change), replySlot: replySlot)
    }

    /// `CONFIG RESETSTAT`: every loop's figures in `INFO` start again from zero, and every node,
    /// masters and replicas, resets its own.
    func resetStatistics(_ wire: ByteBuffer, replySlot: ReplySlot, view: ClusterView) {
        _ = self.loop.shared.directory.gather(on: self.loop.eventLoop) { $0.clients.resetCounters() }
        self.send(wire, to: view.slotMap.allNodes, merge: .allOK, replySlot: replySlot)
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
        self.loop.router.send(RoutedRequest(wire: wire, slot: nil, target: .part(fanOut, index: 0)), to: master)
    }
}

@available(*, unavailable)
extension ClusterCommands: Sendable {}
