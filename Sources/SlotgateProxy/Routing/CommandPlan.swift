//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster

/// The way one command takes, decided once by ``CommandPlanner`` before anything is done: answered
/// here, refused, stateful (a transaction, subscriptions, a blocking command), parked, or carried
/// out by the cluster (routed, split, broadcast, sent to every node). The session carries the plan
/// out; tests check plans without a channel.
///
/// Commands that take the fast path (see `ClientSession+FastPath`) never get a plan: they are the
/// common case of `.cluster(.route)`, decided from the catalog without allocating.
enum CommandPlan {
    /// Slotgate answers with these bytes (`PING`, `ECHO`, `SELECT`, the `CLUSTER` facade, `ACL`
    /// about its own users).
    case answer(ByteBuffer, CommandClass)
    /// `QUIT`: the transaction and subscriptions in progress are dropped, and Slotgate answers,
    /// then closes the connection.
    case quit(ByteBuffer)
    /// `RESET`: the transaction and subscriptions in progress are dropped, and the connection's
    /// state is reset (see ``ConnectionCommand``).
    case reset
    /// An error reply; nothing is sent anywhere. Inside `MULTI` it aborts `EXEC`, as in Redis.
    case refuse(String, CommandClass)
    /// `AUTH` or `HELLO … AUTH`: subject to `auth-failure-limit`, then checked by Slotgate or,
    /// under `acl-mode passthrough`, by the cluster, with the credentials given.
    case authenticate(throughCluster: (user: ByteBuffer?, password: ByteBuffer)?)
    /// About the client's own connection (`HELLO`, `CLIENT SETNAME`, `CLIENT REPLY`, `RESET`, …):
    /// answered from, and changing, the connection's state (see ``ConnectionCommand``).
    case connection
    /// About every client of Slotgate (`CLIENT LIST`, `INFO`, `KILL`, `UNBLOCK`): asked of every loop.
    case allClients(AllClientsCommand)
    /// Part of a transaction: the session's ``TransactionStateMachine`` takes it.
    case transaction
    /// A subscription command, or a command while subscribed: the subscriber links take it.
    case pubSub
    /// A blocking command: on a link of the client's own to the master of its keys' slot.
    case blocking(slot: HashSlot?, master: NodeAddress)
    /// `WAIT`/`WAITAOF`: on links of the client's own to every master it wrote to since its last
    /// `WAIT` (see `ClientSession+Wait`); to `anyMaster` as it is when it wrote to none.
    case wait(anyMaster: NodeAddress)
    /// A command that needs a link of the client's own waits for `node`, which cannot be reached
    /// now; it is tried again when the node comes back or a new slot map names another.
    case park(NodeAddress)
    /// The cluster answers: the loop's router and ``ClusterCommands`` carry it out.
    case cluster(ClusterPlan)

    /// The path the command takes, for its latency histogram.
    var commandClass: CommandClass {
        switch self {
        case .answer(_, let commandClass), .refuse(_, let commandClass): return commandClass
        case .quit, .reset, .authenticate, .connection, .allClients: return .local
        case .transaction: return .transaction
        case .pubSub: return .pubsub
        case .blocking, .park, .wait: return .blocking
        case .cluster(let plan): return plan.commandClass
        }
    }
}

/// How the cluster answers a command Slotgate passes on.
enum ClusterPlan {
    /// To the master of `slot` (any master for `nil`), as the client sent it; a read-only command
    /// may go to a replica under `read-from`. `hotKey` is the key the hot key table samples;
    /// `script` an `EVAL`'s body, remembered so that nodes that lose it can load it again.
    case route(slot: HashSlot?, readOnly: Bool, hotKey: ByteBuffer? = nil, script: ByteBuffer? = nil)
    /// Its keys move (`movablekeys`): a master is asked which arguments are keys first.
    case lookUpKeys
    /// Its keys are grouped by slot, one sub-command per slot; the replies merge.
    case split(CommandSpec, CommandRole.SplitMerge, keyStep: Int)
    /// To every master; the replies merge.
    case broadcast(ReplyMerge)
    /// `SCRIPT LOAD`: to every master, and the body remembered.
    case scriptLoad(body: ByteBuffer)
    /// `SCRIPT EXISTS`: to every master; a script Slotgate remembers exists everywhere.
    case scriptExists(shas: [String])
    /// `SCRIPT FLUSH`: to every master, and Slotgate forgets the bodies too.
    case scriptFlush
    /// The cluster-wide `SCAN`.
    case scan
    /// `INFO`, from every master and every loop, merged.
    case info
    /// `CONFIG SET` of these parameters, on every node.
    case configSet([(name: String, value: String)])
    /// `CONFIG RESETSTAT` on every node, and Slotgate's own counters in `INFO`.
    case resetStatistics
    /// `SCRIPT KILL`, `FUNCTION KILL`: to every master, on connections of their own.
    case killScript
    /// `PUBLISH`: to the master that carries Slotgate's subscriptions.
    case publish

    var commandClass: CommandClass {
        switch self {
        case .route, .lookUpKeys, .publish: return .routed
        case .split: return .split
        case .broadcast, .scriptLoad, .scriptExists, .scriptFlush, .scan, .info, .configSet, .resetStatistics, .killScript: return .broadcast
        }
    }
}
