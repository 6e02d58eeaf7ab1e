//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// What Slotgate must do with a command beyond routing it by its keys: the small built-in table
/// that sits on top of the cluster's own `COMMAND` table.
///
/// Commands not listed here are routed by their keys (or, without keys, to one master). The table
/// is data keyed by the command's full lower-case name (`script|load` for a subcommand), so
/// adding a command is one line.
enum CommandRole {
    /// Keys that span slots are grouped by slot into one sub-command per slot.
    case split(SplitMerge, keyStep: Int)
    /// Sent to every master; the replies are merged.
    case broadcast(ReplyMerge)
    /// The cluster-wide `SCAN`.
    case scan
    /// `INFO`, from every master, merged.
    case info
    /// `CONFIG SET`: to every node, masters and replicas (see ``NodeConfigChange``).
    case configSet
    /// `CONFIG RESETSTAT`: to every node, masters and replicas, and Slotgate's own counters in
    /// `INFO` start again from zero.
    case resetStatistics
    /// `SCRIPT LOAD`: to every master, and the body remembered (see ``ScriptCache``).
    case scriptLoad
    /// `EVAL`: routed by its keys, and the body remembered (see ``ScriptCache``).
    case scriptRun
    /// `SCRIPT EXISTS`: to every master; a script Slotgate remembers exists everywhere.
    case scriptExists
    /// `SCRIPT FLUSH`: to every master, and Slotgate forgets the bodies too.
    case scriptFlush
    /// `PUBLISH`: to the master that holds Slotgate's subscriptions (see `LoopRouter.pubSubNode`).
    case publish
    /// `SCRIPT KILL`, `FUNCTION KILL`: to every master, on connections of their own (see
    /// `ClusterCommands+ScriptKill`).
    case killScript
    /// A `CLUSTER` subcommand answered by Slotgate, which presents itself as a one-node cluster.
    case clusterFacade
    /// `CLUSTER COUNTKEYSINSLOT` / `GETKEYSINSLOT`: routed to the master of the slot in argument 2.
    case routedBySlotArgument
    /// Not passed on; the reason is told to the client.
    case refused(String)

    /// How the parts of a split command merge.
    enum SplitMerge {
        case valuesInKeyOrder
        case allOK
        case sum
    }

    static func of(_ fullName: String) -> CommandRole? {
        self.table[fullName]
    }

    private static let table: [String: CommandRole] = {
        var table: [String: CommandRole] = [
            "mget": .split(.valuesInKeyOrder, keyStep: 1),
            "mset": .split(.allOK, keyStep: 2),
            "del": .split(.sum, keyStep: 1),
            "unlink": .split(.sum, keyStep: 1),
            "exists": .split(.sum, keyStep: 1),
            "touch": .split(.sum, keyStep: 1),

            "dbsize": .broadcast(.sum),
            "keys": .broadcast(.concatenate),
            "flushall": .broadcast(.allOK),
            "flushdb": .broadcast(.allOK),
            "randomkey": .broadcast(.anyNonNull),
            "script|load": .scriptLoad,
            "eval": .scriptRun,
            "eval_ro": .scriptRun,
            "script|exists": .scriptExists,
            "script|flush": .scriptFlush,
            "script|kill": .killScript,
            "function|kill": .killScript,
            "function|load": .broadcast(.identical),
            "function|delete": .broadcast(.allOK),
            "function|flush": .broadcast(.allOK),
            "function|restore": .broadcast(.allOK),
            "publish": .publish,
            "pubsub|channels": .broadcast(.union),
            "pubsub|shardchannels": .broadcast(.union),
            "pubsub|numpat": .broadcast(.sum),
            "pubsub|numsub": .broadcast(.sumPairs),
            "pubsub|shardnumsub": .broadcast(.sumPairs),
            "scan": .scan,
            "info": .info,

            "cluster|slots": .clusterFacade,
            "cluster|shards": .clusterFacade,
            "cluster|nodes": .clusterFacade,
            "cluster|info": .clusterFacade,
            "cluster|myid": .clusterFacade,
            "cluster|keyslot": .clusterFacade,
            "cluster|countkeysinslot": .routedBySlotArgument,
            "cluster|getkeysinslot": .routedBySlotArgument,

            "shutdown": .refused("it would stop a cluster node"),
            "debug": .refused("it acts on a single node's internals"),
            "monitor": .refused("it would watch one node, not the cluster"),
            "sync": .refused("replication is between nodes"),
            "psync": .refused("replication is between nodes"),
            "replicaof": .refused("replication is managed by the cluster"),
            "slaveof": .refused("replication is managed by the cluster"),
            "failover": .refused("failover is managed by the cluster"),
            "config|set": .configSet,
            "config|resetstat": .resetStatistics,
            "config|rewrite": .refused("it would rewrite one node's file only"),
            "move": .refused("a cluster has only database 0"),
            "swapdb": .refused("a cluster has only database 0"),
        ]
        let clusterAdministration = [
            "addslots", "addslotsrange", "delslots", "delslotsrange", "setslot", "failover", "forget", "reset", "meet",
            "replicate", "saveconfig", "bumpepoch", "flushslots", "set-config-epoch", "count-failure-reports", "links",
            "replicas", "slaves",
        ]
        // Until sessions get links of their own (transactions, subscriptions, CLIENT state), these
        // would change a node link that other clients share.
        let notYet = [
            "client|pause", "client|unpause", "client|tracking", "client|caching",
            "client|getredir", "client|trackinginfo",
        ]
        for name in notYet {
            table[name] = .refused("Slotgate does not support it yet (it would change a node link that other clients share)")
        }
        for subcommand in clusterAdministration {
            table["cluster|\(subcommand)"] = .refused("Slotgate presents the cluster as one node; manage the cluster on its nodes")
        }
        return table
    }()
}
