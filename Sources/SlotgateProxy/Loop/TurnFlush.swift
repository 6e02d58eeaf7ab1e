//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore

/// The end of a loop turn: every node link and client written to during the turn is flushed
/// once, so requests that many clients send in one turn leave for a node in one `writev`, and
/// replies leave for a client in one write too.
///
/// Syscalls are the proxy's budget (see DESIGN.md, "Batch syscalls"); this is where they are
/// spent. Links flush before sessions, so a node starts on the turn's requests before Slotgate
/// writes to its clients.
final class TurnFlush {
    private let eventLoop: any EventLoop
    private var links: [NodeLink] = []
    private var sessions: [ClientSession] = []
    private var isScheduled = false

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// `link` was written to; it is flushed at the end of the turn.
    func linkAwaits(_ link: NodeLink) {
        self.links.append(link)
    }

    /// `session` was written to; it is flushed at the end of the turn.
    func sessionAwaits(_ session: ClientSession) {
        self.sessions.append(session)
    }

    /// Arranges for the flush to run once the event loop has handled every channel that is ready
    /// now. NIO runs queued tasks after its batch of I/O events, so this is the end of the turn.
    func schedule() {
        guard !self.isScheduled else { return }
        self.isScheduled = true
        let loopBound = NIOLoopBound(self, eventLoop: self.eventLoop)
        self.eventLoop.execute { loopBound.value.run() }
    }

    /// Flushes every link and session written to since the last flush: one syscall each per turn.
    private func run() {
        self.isScheduled = false
        var index = 0
        while index < self.links.count {
            self.links[index].flush()
            index += 1
        }
        self.links.removeAll(keepingCapacity: true)
        index = 0
        while index < self.sessions.count {
            self.sessions[index].flush()
            index += 1
        }
        self.sessions.removeAll(keepingCapacity: true)
    }
}

@available(*, unavailable)
extension TurnFlush: Sendable {}
