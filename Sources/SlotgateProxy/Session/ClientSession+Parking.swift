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

    /// When a command parked now would stop waiting: a parked command being tried again keeps its
    /// own deadline; anything else gets the failover hold from now.
    private var parkingDeadline: NIODeadline {
        self.parkDeadline ?? .now() + self.loop.hold.duration
    }

    /// Whether a command may still wait for its node (its hold has time left).
    var mayPark: Bool {
        self.parkingDeadline > .now()
    }

    /// Parks the command being handled until `node` (or its successor) can take it.
    func park(waitingFor node: NodeAddress) {
        guard let current = self.handling else { preconditionFailure("Invalid state: parked with no command being handled") }
        self.parked = ParkedCommand(command: current.command, replySlot: current.replySlot, deadline: self.parkingDeadline)
        self.loop.hold.park(self, waitingFor: node)
    }

    /// Parks the command being handled if `node` refused its last connection and the hold has
    /// time left; `true` when it was parked (the caller must then leave it untouched).
    func parkIfUnreachable(_ node: NodeAddress) -> Bool {
        guard self.handling != nil, self.loop.links.isKnownDown(node), self.mayPark else { return false }
        self.park(waitingFor: node)
        return true
    }

    /// Whether the parked command's hold has run out: tried once more, it fails.
    var parkExpired: Bool {
        self.parked.map { $0.deadline <= .now() } ?? false
    }

    /// Handles the parked command again (the loop's tick or a new map); what was held behind it
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
