//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateRESP

/// The failover hold for commands that need a link of the client's own (transactions, blocking
/// commands): while their master refuses connections, the command is parked, with the commands
/// behind it held, and tried again on each router tick and each new slot map, until the master or
/// its successor takes it or the hold runs out.
extension ClientSession {
    /// The command waiting for its node, its place in the reply line, and when it stops waiting.
    struct ParkedCommand {
        var command: RESPCommand
        var replySlot: ReplySlot
        var deadline: NIODeadline
    }

    /// Parks the command being handled if `node` refused its last connection and the hold has
    /// time left; `true` when it was parked (the caller must then leave it untouched).
    func parkIfUnreachable(_ node: NodeAddress) -> Bool {
        guard let current = self.handling, self.loop.links.isKnownDown(node) else { return false }
        let deadline = self.parkDeadline ?? .now() + self.loop.hold.duration
        guard deadline > .now() else { return false }
        self.parked = ParkedCommand(command: current.command, replySlot: current.replySlot, deadline: deadline)
        self.loop.hold.park(self, waitingFor: node)
        return true
    }

    /// Whether the parked command's hold has run out: tried once more, it fails.
    var parkExpired: Bool {
        self.parked.map { $0.deadline <= .now() } ?? false
    }

    /// Handles the parked command again (the router's tick or a new map); what was held behind it
    /// follows once it is on its way.
    func retryParked() {
        guard let parked = self.parked, self.lifecycle.isOpen else { return }
        self.parked = nil
        self.parkDeadline = parked.deadline
        self.process(parked.command, replySlot: parked.replySlot)
        self.parkDeadline = nil
        if self.parked == nil {
            self.runHeldCommands()
        }
    }
}
