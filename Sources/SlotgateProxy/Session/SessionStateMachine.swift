//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// A client connection's lifecycle, as decisions without I/O: the ``ClientSession`` reports what
/// happened and carries out the action it gets back.
///
/// ```
/// connecting ──admitted──▶ serving ──QUIT / protocol error──▶ stopping ──reply written──▶ closed
///      └──refused (maxclients)──▶ stopping                     │
///   serving, stopping ──shutdown──▶ draining(awaiting replies) ──all written──▶ draining(output closed)
///   any ──connection gone, output limit──▶ closed
/// ```
///
/// Reading is a second, independent switch: paused while replies pile up (or while a drain waits
/// for them), so memory per client stays bounded whatever it pipelines.
struct SessionStateMachine {
    enum State: Equatable {
        /// The connection is there; `maxclients` has not admitted it yet.
        case connecting
        /// Commands are taken.
        case serving
        /// No more commands: a `QUIT` or protocol error reply is in line, after which the
        /// connection closes, or `maxclients` refused the client.
        case stopping
        /// Shutting down: no more commands; the output closes once every owed reply is written.
        case draining(Drain)
        /// The connection is gone or closing: late replies are dropped.
        case closed
    }

    enum Drain: Equatable {
        /// Replies are still owed.
        case awaitingReplies
        /// Everything owed was written and the output closed; what the client still sends is
        /// read and dropped until it closes too.
        case outputClosed
    }

    enum Reading: Equatable {
        case reading
        case paused
    }

    private(set) var state = State.connecting
    private(set) var reading = Reading.reading

    /// Whether the client's requests are taken.
    var acceptsCommands: Bool {
        switch self.state {
        case .serving, .connecting: return true
        case .stopping, .draining, .closed: return false
        }
    }

    /// Whether replies still go out; a reply for a closed client is answered into the void.
    var isOpen: Bool {
        if case .closed = self.state { return false }
        return true
    }

    // MARK: - Events

    /// `maxclients` let the client in.
    mutating func admitted() {
        guard self.state == .connecting else { preconditionFailure("Invalid state: admitted while \(self.state)") }
        self.state = .serving
    }

    /// `maxclients` refused the client: it is told so and closed.
    mutating func refused() {
        guard self.state == .connecting else { preconditionFailure("Invalid state: refused while \(self.state)") }
        self.state = .stopping
    }

    /// A `QUIT` or a protocol error: the replies owed go out, then the connection closes.
    mutating func stopTakingCommands() {
        if self.state == .serving || self.state == .connecting {
            self.state = .stopping
        }
    }

    enum DrainAction: Equatable {
        /// Nothing is owed: close the output now.
        case closeOutput
        /// Stop reading and wait for the owed replies; ``repliesWritten(lineIsEmpty:)`` closes.
        case pauseReadingAndWait
        /// Already draining or closed.
        case none
    }

    /// Shutting down: no more commands, and the connection closes once its replies are written.
    mutating func drain(lineIsEmpty: Bool) -> DrainAction {
        switch self.state {
        case .connecting, .serving, .stopping:
            if lineIsEmpty {
                self.state = .draining(.outputClosed)
                return .closeOutput
            }
            self.state = .draining(.awaitingReplies)
            return .pauseReadingAndWait
        case .draining, .closed:
            return .none
        }
    }

    /// Replies were written; `true` when a drain was waiting for the last of them and the output
    /// is to close now.
    mutating func repliesWritten(lineIsEmpty: Bool) -> Bool {
        guard lineIsEmpty, case .draining(.awaitingReplies) = self.state else { return false }
        self.state = .draining(.outputClosed)
        return true
    }

    /// The connection is closing or gone: the closing reply was written, the client did not read
    /// its replies, or the channel went inactive.
    mutating func closed() {
        self.state = .closed
    }

    /// The reading switch wants to be `wanted`; `true` when that is a change to carry out.
    mutating func setReading(_ wanted: Reading) -> Bool {
        guard self.reading != wanted else { return false }
        self.reading = wanted
        return true
    }
}
