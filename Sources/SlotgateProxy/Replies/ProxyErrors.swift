//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import NIOPosix
import SlotgateCluster

#if canImport(Glibc)
    import Glibc
#endif

/// Every error text Slotgate itself sends to clients, in one place, so wording stays consistent
/// and matches Redis where Redis has an error for the same situation.
public enum ProxyErrors {
    static let crossSlot = "CROSSSLOT Keys in request don't hash to the same slot"
    static let slotNotServed = "CLUSTERDOWN Hash slot not served"
    static let selectInClusterMode = "ERR SELECT is not allowed in cluster mode"
    static let notAnInteger = "ERR value is not an integer or out of range"

    static let invalidCursor = "ERR invalid cursor"
    static let watchInsideMulti = "ERR WATCH inside MULTI is not allowed"
    static let nestedMulti = "ERR MULTI calls can not be nested"
    static let execWithoutMulti = "ERR EXEC without MULTI"
    static let discardWithoutMulti = "ERR DISCARD without MULTI"
    static let execAbortAfterErrors = "EXECABORT Transaction discarded because of previous errors."

    static func notAllowedWhileSubscribed(_ command: String) -> String {
        "ERR Can't execute '\(command)': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    }

    static let subscriberLinkClosed = "ERR the subscription was reset before the node confirmed it"

    static func subscriberLinkLost(_ node: NodeAddress) -> String {
        "ERR Slotgate lost its subscriber connection to node \(node); the subscriptions are being made again"
    }

    /// A transaction over several slots under `cross-slot-transactions refuse`.
    static let crossSlotTransaction = crossSlot + " (cross-slot-transactions per-slot would run this transaction slot by slot)"
    static let watchAcrossSlots =
        crossSlot + " (the keys a transaction WATCHes must share one slot: no order of per-slot commits can honour watches in several)"
    static let notAllowedInTransaction = "ERR Command not allowed inside a transaction"
    static func tooManyAuthFailures(seconds: Int) -> String {
        "ERR too many failed AUTH attempts from this address; try again in \(seconds) s"
    }

    static let watchedGroupNotCommitted = "the transaction on the watched keys' slot did not commit"

    /// Why one slot's share of a per-slot transaction did not commit, and whether its commands ran.
    static func slotGroupNotCommitted(slot: HashSlot?, node: NodeAddress?, mayHaveRun: Bool, reason: String) -> String {
        let share = slot.map { "the commands for slot \($0.rawValue)" } ?? "the commands without keys"
        let place = node.map { " on node \($0)" } ?? ""
        let fate = mayHaveRun ? "may have run" : "did not run"
        return "ERR per-slot transaction: \(share)\(place) \(fate) (\(reason))"
    }

    static func execAbort(_ reason: String) -> String {
        "EXECABORT Transaction discarded: \(reason)"
    }

    /// A key of the transaction is no longer on the transaction's node.
    static func movedDuringTransaction(_ redirect: String) -> String {
        "ERR the transaction's slot moved to another node (\(redirect)); the transaction will be aborted"
    }

    static func transactionLinkLost(_ node: NodeAddress) -> String {
        "ERR Slotgate lost the transaction's connection to node \(node); the node discarded the transaction"
    }

    static func exclusiveLinksExhausted(_ budget: ExclusiveLinkBudget) -> String {
        "ERR Slotgate has no free node link for this client (max-exclusive-links-per-client \(budget.limitPerClient), "
            + "max-exclusive-links \(budget.limit)); try again when one is free"
    }
    static let noProtocol = "NOPROTO sorry, this protocol version is not supported"
    static let helloVersionNotInteger = "ERR Protocol version is not an integer or out of range"
    static let badClientName = "ERR Client names cannot contain spaces, newlines or special characters."
    static let noAuth = "NOAUTH Authentication required."
    static let wrongPassword = "WRONGPASS invalid username-password pair or user is disabled."
    static let helloWithoutAuth =
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option "
        + "can be used to authenticate the client and select the RESP protocol version at the same time"
    static let authWithoutPassword =
        "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
    static let invalidSlot = "ERR Invalid slot"
    static let invalidSlotOrCount = "ERR Invalid slot or number of keys"
    static let mastersDisagree = "ERR the cluster's masters gave different replies to this command"

    /// A part of a split or broadcast command got a reply the merge cannot read.
    static func unexpectedPartReply(_ text: String) -> String {
        "ERR Slotgate got an unexpected reply from a node while merging: \(text.prefix(100))"
    }

    /// A command Slotgate does not pass on, and why.
    static func refused(_ command: String, _ reason: String) -> String {
        "ERR '\(command)' is not available through Slotgate: \(reason)"
    }

    static func noSlotMap(_ reason: String) -> String {
        "CLUSTERDOWN Slotgate has no slot map yet: \(reason)"
    }

    static func arity(_ command: String) -> String {
        "ERR wrong number of arguments for '\(command)' command"
    }

    static func protocolError(_ error: some Error) -> String {
        "ERR \(error)"
    }

    /// The link dropped after the command was written: it may or may not have run, so it is not re-sent.
    static func linkLost(_ node: NodeAddress) -> String {
        "ERR Slotgate lost its connection to node \(node) before the reply; the command may have been executed"
    }

    /// Under `acl-mode passthrough`, the node that was to check a client's password could not be
    /// asked, or did not answer.
    static func signInUnchecked(_ node: NodeAddress) -> String {
        "ERR Slotgate could not have node \(node) check the user and password; try again"
    }

    /// Under `acl-mode passthrough`, a node refused a new link's sign-in as the client's user
    /// (its password changed since the client signed in); the command was not sent.
    static func userSignInRefused(_ node: NodeAddress, _ reply: String) -> String {
        "ERR node \(node) refused Slotgate's sign-in as this client's user (\(reply)); the command was not sent, sign in again"
    }

    /// The command never reached the node.
    static func cannotConnect(_ node: NodeAddress, _ reason: String) -> String {
        "ERR Slotgate cannot connect to node \(node): \(reason)"
    }

    /// The node could not be reached and no other node took over its slots while the request waited.
    static func nodeUnreachable(_ node: NodeAddress, _ reason: String, held: TimeAmount) -> String {
        "CLUSTERDOWN node \(node) is unreachable (\(reason)) and no replica took over its slots within \(held.nanoseconds / 1_000_000) ms"
    }

    /// The failover hold is full: the request fails at once instead of waiting.
    static func holdBudgetSpent(_ node: NodeAddress, _ reason: String, budget: Int) -> String {
        "CLUSTERDOWN node \(node) is unreachable (\(reason)) and the \(budget) bytes of requests Slotgate holds for a failover are spent"
    }

    /// `maxclients` clients are connected already.
    static let maxClients = "ERR max number of clients reached"

    /// The node's link has `max-in-flight-per-node` requests waiting already.
    static func tooManyInFlight(_ node: NodeAddress, _ limit: Int) -> String {
        "ERR Slotgate has \(limit) commands in flight to node \(node) already (max-in-flight-per-node); try again"
    }

    /// The node did not answer in time; the command reached it and may have run.
    static func requestTimedOut(_ node: NodeAddress, _ limit: TimeAmount) -> String {
        "ERR Slotgate got no reply from node \(node) within \(limit.nanoseconds / 1_000_000) ms; the command may have been executed"
    }

    /// A short reason for a failed connection, such as `Connection refused` or `connect timed out`.
    public static func connectFailureReason(_ error: any Error) -> String {
        switch error {
        case let error as NIOConnectionError:
            return error.connectionErrors.first.map { Self.connectFailureReason($0.error) } ?? "no address to connect to"
        case let error as IOError:
            return String(cString: strerror(error.errnoCode))
        case ChannelError.connectTimeout(let limit):
            return "connect timed out after \(limit.nanoseconds / 1_000_000) ms"
        default:
            return "\(error)"
        }
    }
}
