//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore

/// A client's requests in the order it sent them, each waiting for its reply.
///
/// Places are numbered from the first request the client ever sent, so a number stays valid
/// while places before it leave from the front. Entries are plain values in one ``Ring``, moved
/// in and out without reference counting. Only its session holds the line.
struct ReplyLine {
    /// One request's place.
    struct Entry {
        /// The reply, once produced.
        var reply: ByteBuffer?
        /// The request as the client sent it, for the slow log; `nil` for a push or a protocol error.
        var request: ByteBuffer?
        /// Where the command is counted (see ``CommandCatalog/Entry/statIndex``); -1 when the
        /// catalog does not know it.
        var statIndex: Int32 = -1
        /// The path the command took, for its latency histogram.
        var commandClass = CommandClass.routed
        /// The client turned replies off (`CLIENT REPLY OFF/SKIP`): produced, not sent.
        var isSilent = false
        /// Close the client connection once this reply is written (QUIT, protocol errors).
        var closesConnection = false
        /// When the command arrived.
        var startedAt = NIODeadline.uptimeNanoseconds(0)

        /// A place for bytes nobody asked for (a pub/sub message), already filled.
        static func push(_ bytes: ByteBuffer) -> Entry {
            Entry(reply: bytes)
        }
    }

    private let entries = Ring<Entry>()
    /// The number of the entry at the front.
    private var firstSequence = 0

    var count: Int { self.entries.count }
    var isEmpty: Bool { self.entries.isEmpty }

    /// Adds a place at the back; returns its number.
    mutating func append(_ entry: consuming Entry) -> Int {
        self.entries.append(entry)
        return self.firstSequence &+ self.entries.count &- 1
    }

    /// The entry numbered `sequence`, while it is in the line.
    subscript(sequence: Int) -> Entry? {
        let offset = sequence &- self.firstSequence
        guard offset >= 0 && offset < self.entries.count else { return nil }
        return self.entries[offset]
    }

    /// Changes the entry numbered `sequence`, if it is still in the line; `true` when it is.
    @discardableResult
    mutating func update(_ sequence: Int, _ change: (inout Entry) -> Void) -> Bool {
        let offset = sequence &- self.firstSequence
        guard offset >= 0 && offset < self.entries.count else { return false }
        change(&self.entries[offset])
        return true
    }

    /// Whether the front entry's reply is there.
    var frontIsReady: Bool { !self.entries.isEmpty && self.entries[0].reply != nil }

    /// Whether `sequence` is the front entry's number.
    func isFront(_ sequence: Int) -> Bool { sequence == self.firstSequence }

    /// Takes the entry at the front.
    mutating func removeFirst() -> Entry {
        self.firstSequence &+= 1
        return self.entries.popFirst()!
    }

    /// Drops every entry; their numbers are never given out again.
    mutating func removeAll() {
        self.firstSequence &+= self.entries.count
        self.entries.removeAll()
    }
}
