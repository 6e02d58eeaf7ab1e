//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateRESP
import Testing

@testable import SlotgateProxy

/// How a per-slot transaction's commands are grouped by slot, and how the groups' `EXEC` replies
/// become the one array the client gets.
@Suite struct PerSlotQueueTests {
    private static func framed(_ text: String, _ kind: RESPReplyKind) -> FramedReply {
        FramedReply(kind: kind, bytes: ByteBuffer(string: text))
    }

    @Test func commandsAreGroupedBySlotInTheOrderSlotsAppear() throws {
        let (slotA, slotB) = (try #require(HashSlot(rawValue: 10)), try #require(HashSlot(rawValue: 20)))
        var queue = PerSlotQueue()
        queue.queueOnLink()
        queue.queue(ByteBuffer(string: "b1"), in: slotB)
        queue.queue(ByteBuffer(string: "a1"), in: slotA)
        queue.queue(ByteBuffer(string: "b2"), in: slotB)
        let parts = [queue.placeOnLink(), queue.place(ByteBuffer(string: "a2"), in: slotA)]
        queue.record(.merged(.sum, parts))
        #expect(queue.otherGroups.map(\.slot) == [slotB, slotA])
        #expect(queue.otherGroups.map { $0.commands.map { String(buffer: $0) } } == [["b1", "b2"], ["a1", "a2"]])
        #expect((0...2).map { queue.commandCount(ofGroup: $0) } == [2, 2, 2])
        #expect(parts == [PerSlotQueue.Place(group: 0, index: 1), PerSlotQueue.Place(group: 2, index: 1)])
        #expect(queue.entries.count == 5)
    }

    @Test func execReplyPutsEveryGroupsRepliesBackInTheClientsOrder() throws {
        let slot = try #require(HashSlot(rawValue: 10))
        var queue = PerSlotQueue()
        queue.queueOnLink()
        queue.queue(ByteBuffer(string: "x"), in: slot)
        let parts = [queue.placeOnLink(), queue.place(ByteBuffer(string: "y"), in: slot)]
        queue.record(.merged(.sum, parts))
        let committed = CrossSlotExec.reply(
            entries: queue.entries,
            outcomes: [
                .committed([Self.framed("+OK\r\n", .simpleString), Self.framed(":2\r\n", .integer)]),
                .committed([Self.framed("$1\r\nv\r\n", .bulkString), Self.framed(":1\r\n", .integer)]),
            ],
            resp3: false
        )
        #expect(String(buffer: committed) == "*3\r\n+OK\r\n$1\r\nv\r\n:3\r\n")

        let oneGroupLost = CrossSlotExec.reply(
            entries: queue.entries,
            outcomes: [.committed([Self.framed("+OK\r\n", .simpleString), Self.framed(":2\r\n", .integer)]), .notCommitted("ERR lost")],
            resp3: true
        )
        #expect(String(buffer: oneGroupLost) == "*3\r\n+OK\r\n-ERR lost\r\n-ERR lost\r\n")
    }
}
