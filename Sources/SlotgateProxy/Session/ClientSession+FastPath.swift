//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateCluster
import SlotgateRESP

/// The path most requests take: a command the catalog marks fast-routable, from a client in no
/// special state, whose keys share one slot and whose master has an open shared link, goes onto
/// that link as the bytes the client sent. Nothing is allocated for it: no command value, no
/// argument array, no name string. Anything else — an error to report, a link still to open, a
/// read for a replica — falls back to ``ClientSession/handle(_:statIndex:)``, which produces the
/// same outcome the slow way.
extension ClientSession {
    /// Sends `request` on the fast path; `false`, with nothing done, when it does not qualify.
    func routeFast(_ request: RESPRequest, _ entry: CommandCatalog.Entry) -> Bool {
        let spec = entry.spec
        let argumentCount = request.argumentCount
        guard spec.acceptsArgumentCount(argumentCount) else { return false }
        let slot: HashSlot
        let keyIndex: Int
        if let index = entry.singleKeyIndex {
            guard index < argumentCount else { return false }
            slot = request.withArgument(index) { HashSlot(key: $0) }
            keyIndex = index
        } else {
            guard let (found, first) = Self.commonSlot(of: request, spec: spec) else { return false }
            slot = found
            keyIndex = first
        }
        guard let link = self.router.fastLink(for: slot, resp3: self.usesRESP3, readOnly: spec.isReadOnly) else { return false }
        let replySlot = self.enterLine(request.wire, statIndex: entry.statIndex)
        self.router.sampleHotKey { request.argument(keyIndex) }
        var routed = RoutedRequest(wire: request.wire, slot: slot, target: .client(replySlot), resp3: self.usesRESP3, login: NodeLogins.slotgate)
        routed.isReadOnly = spec.isReadOnly
        link.send(routed)
        return true
    }

    /// Splits `request` by slot on the fast path (see ``ClusterCommands/split(_:wire:spec:merge:keyStep:replySlot:)``);
    /// `false`, with nothing done, when its argument count is wrong.
    func splitFast(_ request: RESPRequest, _ entry: CommandCatalog.Entry) -> Bool {
        guard let (merge, keyStep) = entry.split, entry.spec.acceptsArgumentCount(request.argumentCount) else { return false }
        let replySlot = self.enterLine(request.wire, statIndex: entry.statIndex)
        replySlot.commandClass = .split
        self.loop.clusterCommands.split(request, wire: request.wire, spec: entry.spec, merge: merge, keyStep: keyStep, replySlot: replySlot)
        return true
    }

    /// The slot every key of `request` hashes to, and the first key's index; `nil` when it has no
    /// key or its keys span slots.
    private static func commonSlot(of request: RESPRequest, spec: CommandSpec) -> (HashSlot, Int)? {
        var slot: HashSlot?
        var firstKey = 0
        var spansSlots = false
        for keySpec in spec.keySpecs {
            keySpec.visitKeyIndexes(
                argumentCount: request.argumentCount,
                argumentEquals: { index, keyword in request.withArgument(index) { KeySpec.matches($0, keyword: keyword) } },
                integerArgument: { index in request.withArgument(index) { parseRedisInteger($0) } }
            ) { index in
                let keySlot = request.withArgument(index) { HashSlot(key: $0) }
                if let slot {
                    spansSlots = spansSlots || slot != keySlot
                } else {
                    slot = keySlot
                    firstKey = index
                }
            }
        }
        guard let slot, !spansSlots else { return nil }
        return (slot, firstKey)
    }
}
