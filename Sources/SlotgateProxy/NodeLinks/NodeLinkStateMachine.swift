//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// A node link's lifecycle, as decisions without I/O: the ``NodeLink`` reports what happened and
/// carries out the action it gets back.
///
/// ```
/// connecting ──connected──▶ open(setup replies to drop) ─────────────┐
///      │            └─────▶ signingIn ──accepted──▶ open              │
///      │                        └──────refused──▶ closed(on purpose)  │
///      └────────────────────── close / drop / timeout ──────────▶ closed
/// ```
///
/// While connecting or signing in as a client's user, requests wait unsent, so that none runs as
/// anybody else. The replies to Slotgate's own setup commands (`AUTH`, `HELLO 3`, `READONLY`)
/// arrive first and are dropped. Generic over the channel context so that tests need no channel.
struct NodeLinkStateMachine<Context> {
    enum State {
        /// The connection (and any TLS handshake) is being made.
        case connecting
        /// Connected; the link signed in as a client's user and the node has not accepted the
        /// password yet. `setupReplies` counts the setup replies still to come, that `AUTH` first.
        case signingIn(Context, setupReplies: Int)
        /// Connected; requests go straight out. `setupReplies` setup replies are still to be dropped.
        case open(Context, setupReplies: Int)
        /// Ended. `onPurpose` when Slotgate closed it, which is nothing to warn about.
        case closed(onPurpose: Bool)
    }

    /// What the link sends first once connected, before any client's request.
    struct Setup {
        /// `AUTH` as the link's user.
        var authenticates: Bool
        /// That user is a client's (`acl-mode passthrough`): nothing else may go before the node
        /// accepts it.
        var signsInAsClient: Bool
        /// `HELLO 3`.
        var switchesToRESP3: Bool
        /// `READONLY`, for reads from replicas.
        var readsFromReplicas: Bool

        var commandCount: Int {
            (self.authenticates ? 1 : 0) + (self.switchesToRESP3 ? 1 : 0) + (self.readsFromReplicas ? 1 : 0)
        }
    }

    private(set) var state = State.connecting

    // MARK: - Queries

    /// The channel, while connected.
    var context: Context? {
        switch self.state {
        case .signingIn(let context, _), .open(let context, _): return context
        case .connecting, .closed: return nil
        }
    }

    var isClosed: Bool {
        if case .closed = self.state { return true }
        return false
    }

    /// Whether Slotgate closed the link itself (nothing to warn about), once closed.
    var closedOnPurpose: Bool {
        if case .closed(let onPurpose) = self.state { return onPurpose }
        return false
    }

    // MARK: - Events

    enum ConnectedAction {
        /// Write the setup commands, then the requests that waited.
        case writeSetupThenUnsent(Context)
        /// Write the setup commands; the requests wait for the node's verdict on the sign-in.
        case writeSetupAndAwaitSignIn(Context)
        /// The link was closed while connecting: close the new channel.
        case closeChannel(Context)
    }

    /// The connection is up.
    mutating func connected(_ context: Context, setup: Setup) -> ConnectedAction {
        switch self.state {
        case .connecting:
            if setup.authenticates && setup.signsInAsClient {
                self.state = .signingIn(context, setupReplies: setup.commandCount)
                return .writeSetupAndAwaitSignIn(context)
            }
            self.state = .open(context, setupReplies: setup.commandCount)
            return .writeSetupThenUnsent(context)
        case .closed:
            return .closeChannel(context)
        case .signingIn, .open:
            preconditionFailure("Invalid state: a node link connected twice (\(self.state))")
        }
    }

    enum SendAction {
        /// Write the request now.
        case write(Context)
        /// Keep its bytes until the connection is up, or the node accepted the sign-in.
        case keepUnsent
        /// The link has ended: the request never left.
        case fail
    }

    /// A request is to be sent.
    func send() -> SendAction {
        switch self.state {
        case .open(let context, _): return .write(context)
        case .connecting, .signingIn: return .keepUnsent
        case .closed: return .fail
        }
    }

    enum ReplyAction {
        /// The node's verdict on the client user's `AUTH`: see ``signInAnswered(accepted:)``.
        case signInVerdict
        /// A reply to a setup command: dropped (an error is worth logging).
        case dropSetupReply
        /// A reply to a request.
        case deliver
        /// The link has ended; late bytes are ignored.
        case ignore
    }

    /// A whole reply arrived from the node.
    mutating func replyReceived() -> ReplyAction {
        switch self.state {
        case .signingIn:
            return .signInVerdict
        case .open(_, setupReplies: 0):
            return .deliver
        case .open(let context, let setupReplies):
            self.state = .open(context, setupReplies: setupReplies - 1)
            return .dropSetupReply
        case .closed:
            return .ignore
        case .connecting:
            preconditionFailure("Invalid state: a reply before the node link connected")
        }
    }

    enum SignInAction {
        /// Accepted: write the requests that waited.
        case writeUnsent(Context)
        /// Refused: the link is closed (on purpose) and its requests fail with the node's refusal.
        case failAndClose(Context)
    }

    /// The node accepted or refused the client user's password.
    mutating func signInAnswered(accepted: Bool) -> SignInAction {
        guard case .signingIn(let context, let setupReplies) = self.state else {
            preconditionFailure("Invalid state: a sign-in verdict while \(self.state)")
        }
        if accepted {
            self.state = .open(context, setupReplies: setupReplies - 1)
            return .writeUnsent(context)
        }
        self.state = .closed(onPurpose: true)
        return .failAndClose(context)
    }

    enum CloseAction {
        /// The link ends now: the owner is told, and the requests in flight are answered or given
        /// back. The channel, if any, is the one to close.
        case end(Context?)
        /// The link had ended already.
        case none
    }

    /// The link ends: Slotgate closes it (`onPurpose`), or the connection failed or dropped.
    mutating func close(onPurpose: Bool) -> CloseAction {
        switch self.state {
        case .connecting:
            self.state = .closed(onPurpose: onPurpose)
            return .end(nil)
        case .signingIn(let context, _), .open(let context, _):
            self.state = .closed(onPurpose: onPurpose)
            return .end(context)
        case .closed(let closedOnPurpose):
            self.state = .closed(onPurpose: closedOnPurpose || onPurpose)
            return .none
        }
    }
}
