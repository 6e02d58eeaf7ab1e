//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateACL
import SlotgateCluster
import SlotgateRESP
import Testing

@testable import SlotgateProxy

/// Protects the one place that decides a command's way: answered here, refused, stateful, parked,
/// or carried out by the cluster — checked on plans alone, with a made-up two-master cluster and
/// no channel.
@Suite("CommandPlanner")
struct CommandPlannerTests {
    static let first = NodeAddress(host: "10.0.0.1", port: 7000)
    static let second = NodeAddress(host: "10.0.0.2", port: 7000)

    /// `foo` hashes to slot 12182, on the second master; `bar` to 5061, on the first.
    static let view: ClusterView = {
        func keyed(_ name: String, _ arity: Int, _ flags: Set<String>, last: Int = 0, step: Int = 1) -> CommandSpec {
            CommandSpec(
                name: name,
                arity: arity,
                flags: flags,
                keySpecs: [KeySpec(beginSearch: .index(1), findKeys: .range(lastKey: last, step: step, limit: 0))]
            )
        }
        let keyless = { (name: String, arity: Int) in CommandSpec(name: name, arity: arity, flags: [], keySpecs: []) }
        let specs = [
            keyed("get", 2, ["readonly"]), keyed("set", -3, ["write"]), keyed("mget", -2, ["readonly"], last: -1),
            keyed("blpop", -3, ["write", "blocking"], last: -2), CommandSpec(
                name: "eval",
                arity: -3,
                flags: [],
                keySpecs: [KeySpec(beginSearch: .index(2), findKeys: .keyCount(keyCountIndex: 0, firstKey: 1, step: 1))]
            ),
            CommandSpec(
                name: "georadius",
                arity: -6,
                flags: ["write", "movablekeys"],
                keySpecs: [KeySpec(beginSearch: .index(1), findKeys: .range(lastKey: 0, step: 1, limit: 0), isFlaggedIncomplete: true)]
            ),
            keyless("keys", 2), keyless("shutdown", -1), keyless("publish", 3), keyless("wait", 3),
            CommandSpec(
                name: "config",
                arity: -2,
                flags: [],
                keySpecs: [],
                subcommands: ["set": keyless("config|set", -4), "get": keyless("config|get", -3)]
            ),
            CommandSpec(
                name: "cluster",
                arity: -2,
                flags: [],
                keySpecs: [],
                subcommands: ["myid": keyless("cluster|myid", 2), "countkeysinslot": keyless("cluster|countkeysinslot", 3)]
            ),
        ]
        let slotMap = SlotMap(ranges: [
            (slots: 0...8191, shard: SlotMap.Shard(master: first, replicas: [])),
            (slots: 8192...16383, shard: SlotMap.Shard(master: second, replicas: [])),
        ])
        return ClusterView(version: 1, slotMap: slotMap, commands: CommandTable(specs), serverVersion: "7.0.15")
    }()

    /// The nodes as a loop would report them: masters from the view, `down` known down.
    struct Nodes: PlanningNodes {
        var down: Set<NodeAddress> = []

        func master(for slot: HashSlot?) -> NodeAddress? {
            slot.flatMap { CommandPlannerTests.view.slotMap.master(for: $0) } ?? CommandPlannerTests.first
        }

        func isKnownDown(_ node: NodeAddress) -> Bool {
            self.down.contains(node)
        }

        var holdDuration: TimeAmount { .seconds(20) }
    }

    static let plain = CommandPlanner.SessionFacts(
        isAuthenticated: true,
        user: "default",
        usesRESP3: false,
        inTransaction: false,
        inMulti: false,
        isSubscribed: false,
        hasSubscriberLinks: false,
        clientID: 7,
        parkDeadline: nil
    )

    static func plan(
        _ words: [String],
        session: CommandPlanner.SessionFacts = plain,
        authenticator: ClientAuthenticator = ClientAuthenticator(requirePassword: ""),
        view: ClusterView? = view,
        down: Set<NodeAddress> = []
    ) -> CommandPlan {
        let planner = CommandPlanner(
            view: view,
            unavailableReason: "topology discovery has not finished",
            authenticator: authenticator,
            configSetBroadcast: true,
            identity: ProxyIdentity()
        )
        let command = RESPCommand(words)
        return planner.plan(command, name: command.lowercasedName, session: session, nodes: Nodes(down: down))
    }

    static func refusal(_ plan: CommandPlan) -> String? {
        if case .refuse(let message, _) = plan { return message }
        return nil
    }

    @Test("a keyed command goes to its slot's master, as it is; a read says it only reads")
    func routed() {
        guard case .cluster(.route(let slot, let readOnly, let hotKey, nil)) = Self.plan(["GET", "foo"]) else {
            Issue.record("GET was not routed"); return
        }
        #expect(slot?.rawValue == 12182 && readOnly && hotKey.map { String(buffer: $0) } == "foo")
        guard case .cluster(.route(_, false, _, let script)) = Self.plan(["EVAL", "return 1", "1", "foo"]) else {
            Issue.record("EVAL was not routed"); return
        }
        #expect(script.map { String(buffer: $0) } == "return 1")
        guard case .cluster(.lookUpKeys) = Self.plan(["GEORADIUS", "g", "0", "0", "1", "km"]) else {
            Issue.record("movable keys were not looked up"); return
        }
    }

    @Test("keys in two slots: split for MGET, CROSSSLOT for a command that cannot be split")
    func crossSlot() {
        guard case .cluster(.split(_, .valuesInKeyOrder, keyStep: 1)) = Self.plan(["MGET", "foo", "bar"]) else {
            Issue.record("MGET was not split"); return
        }
        #expect(Self.refusal(Self.plan(["EVAL", "return 1", "2", "foo", "bar"])) == ProxyErrors.crossSlot)
    }

    @Test("whole-keyspace and every-node commands, the CLUSTER facade, and refused commands")
    func roles() {
        guard case .cluster(.broadcast(.concatenate)) = Self.plan(["KEYS", "*"]) else { Issue.record("KEYS was not broadcast"); return }
        guard case .cluster(.configSet(let parameters)) = Self.plan(["CONFIG", "SET", "maxmemory", "1mb"]), parameters.count == 1 else {
            Issue.record("CONFIG SET was not sent to every node"); return
        }
        #expect(Self.refusal(Self.plan(["CONFIG", "SET", "port", "1"]))?.contains("port") == true)
        guard case .answer(_, .local) = Self.plan(["CLUSTER", "MYID"]) else { Issue.record("CLUSTER MYID was not answered here"); return }
        guard case .cluster(.route(let slot, false, nil, nil)) = Self.plan(["CLUSTER", "COUNTKEYSINSLOT", "42"]), slot?.rawValue == 42 else {
            Issue.record("COUNTKEYSINSLOT was not routed by its slot"); return
        }
        #expect(Self.refusal(Self.plan(["CLUSTER", "COUNTKEYSINSLOT", "x"])) == ProxyErrors.notAnInteger)
        #expect(Self.refusal(Self.plan(["SHUTDOWN"]))?.contains("'SHUTDOWN' is not available") == true)
        guard case .cluster(.publish) = Self.plan(["PUBLISH", "news", "hi"]) else { Issue.record("PUBLISH not planned"); return }
    }

    @Test("unknown commands and wrong arities are refused as Redis words them; no slot map is CLUSTERDOWN")
    func table() {
        #expect(Self.refusal(Self.plan(["NOSUCH", "a"]))?.hasPrefix("ERR unknown command 'NOSUCH'") == true)
        #expect(Self.refusal(Self.plan(["GET"])) == CommandTable.arityMessage("get"))
        #expect(Self.refusal(Self.plan(["GET", "foo"], view: nil))?.hasPrefix("CLUSTERDOWN") == true)
    }

    @Test("commands about the connection and every client are answered here; QUIT and RESET leave")
    func local() {
        guard case .answer(_, .local) = Self.plan(["PING"]) else { Issue.record("PING was not answered here"); return }
        guard case .quit = Self.plan(["QUIT"]) else { Issue.record("QUIT did not quit"); return }
        guard case .reset = Self.plan(["RESET"]) else { Issue.record("RESET did not reset"); return }
        guard case .connection = Self.plan(["CLIENT", "SETNAME", "app"]) else { Issue.record("CLIENT SETNAME was not local"); return }
        guard case .authenticate(nil) = Self.plan(["AUTH", "pw"]) else { Issue.record("AUTH was not checked here"); return }
        guard case .allClients(.kill(let filter, countsKilled: true)) = Self.plan(["CLIENT", "KILL", "ID", "9"]) else {
            Issue.record("CLIENT KILL was not about every client"); return
        }
        #expect(filter.id == 9 && filter.skip == 7)
        #expect(Self.refusal(Self.plan(["CLIENT", "UNBLOCK", "x"])) == ProxyErrors.notAnInteger)
        let passthrough = ClientAuthenticator(requirePassword: "", checkedByCluster: true)
        guard case .authenticate(let credentials?) = Self.plan(["AUTH", "alice", "pw"], authenticator: passthrough) else {
            Issue.record("AUTH did not go to the cluster under passthrough"); return
        }
        #expect(credentials.user.map { String(buffer: $0) } == "alice" && String(buffer: credentials.password) == "pw")
    }

    @Test("a client that has not signed in may only sign in or leave")
    func noAuth() {
        var session = Self.plain
        session.isAuthenticated = false
        #expect(Self.refusal(Self.plan(["GET", "foo"], session: session)) == ProxyErrors.noAuth)
        guard case .authenticate = Self.plan(["AUTH", "pw"], session: session) else { Issue.record("AUTH was refused"); return }
        guard case .quit = Self.plan(["QUIT"], session: session) else { Issue.record("QUIT was refused"); return }
    }

    @Test("inside MULTI every command but QUIT and RESET belongs to the transaction")
    func transaction() {
        var session = Self.plain
        guard case .transaction = Self.plan(["WATCH", "foo"], session: session) else { Issue.record("WATCH not transactional"); return }
        guard case .cluster = Self.plan(["GET", "foo"], session: session) else { Issue.record("GET outside MULTI was held"); return }
        session.inTransaction = true
        session.inMulti = true
        guard case .transaction = Self.plan(["GET", "foo"], session: session) else { Issue.record("GET in MULTI was not queued"); return }
        guard case .transaction = Self.plan(["SUBSCRIBE", "news"], session: session) else { Issue.record("SUBSCRIBE in MULTI not queued"); return }
        guard case .quit = Self.plan(["QUIT"], session: session) else { Issue.record("QUIT was queued"); return }
    }

    @Test("a RESP2 subscriber may send only subscription commands and PING; RESP3 may send anything")
    func subscribed() {
        var session = Self.plain
        guard case .pubSub = Self.plan(["SUBSCRIBE", "news"], session: session) else { Issue.record("SUBSCRIBE not pub/sub"); return }
        session.isSubscribed = true
        #expect(Self.refusal(Self.plan(["GET", "foo"], session: session))?.contains("'get'") == true)
        guard case .answer = Self.plan(["PING"], session: session) else { Issue.record("PING without links was not answered here"); return }
        session.hasSubscriberLinks = true
        guard case .pubSub = Self.plan(["PING"], session: session) else { Issue.record("PING did not go to the subscriber link"); return }
        session.usesRESP3 = true
        guard case .cluster = Self.plan(["GET", "foo"], session: session) else { Issue.record("a RESP3 subscriber's GET was refused"); return }
    }

    @Test("a blocking command gets a link of its own to its master, or is parked while that master is down")
    func blocking() {
        guard case .blocking(let slot, Self.second) = Self.plan(["BLPOP", "foo", "0"]), slot?.rawValue == 12182 else {
            Issue.record("BLPOP did not block on its master"); return
        }
        guard case .park(Self.second) = Self.plan(["BLPOP", "foo", "0"], down: [Self.second]) else {
            Issue.record("BLPOP for a master that is down was not parked"); return
        }
        var expired = Self.plain
        expired.parkDeadline = .now() - .seconds(1)
        guard case .blocking = Self.plan(["BLPOP", "foo", "0"], session: expired, down: [Self.second]) else {
            Issue.record("a command whose hold ran out was parked again"); return
        }
        #expect(Self.refusal(Self.plan(["BLPOP", "foo", "bar", "0"])) == ProxyErrors.crossSlot)
        guard case .wait(anyMaster: Self.first) = Self.plan(["WAIT", "1", "0"]) else { Issue.record("WAIT was not planned as a wait for replicas"); return }
    }

    @Test("ACL users: NOPERM before anything else, and ACL answered about Slotgate's users")
    func acl() throws {
        let alice = try ACLUser(definition: ["alice", "on", "nopass", "~app:*", "+get"])
        let authenticator = ClientAuthenticator(requirePassword: "", users: [alice])
        var session = Self.plain
        session.user = "alice"
        #expect(Self.refusal(Self.plan(["GET", "foo"], session: session, authenticator: authenticator))?.hasPrefix("NOPERM") == true)
        guard case .cluster = Self.plan(["GET", "app:1"], session: session, authenticator: authenticator) else {
            Issue.record("alice could not read her keys"); return
        }
        guard case .answer = Self.plan(["ACL", "WHOAMI"], session: session, authenticator: authenticator) else {
            Issue.record("ACL WHOAMI was not answered here"); return
        }
    }
}
