//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateRESP

/// The one place that decides a command's way (see ``CommandPlan``), from the command, what the
/// client is in the middle of (``SessionFacts``) and what the loop knows of the cluster. Pure:
/// it neither sends nor answers, so its decisions are tested without a channel.
///
/// The checks run in Redis's order, each taking the command or passing it on:
/// 1. a client that has not signed in may only sign in or leave (`NOAUTH`);
/// 2. under ACL users, the user's rules (`NOPERM`), and `ACL` about Slotgate's users;
/// 3. transactions: `MULTI`, `EXEC`, … and every command inside `MULTI`;
/// 4. subscriptions, and the few commands a RESP2 subscriber may send;
/// 5. commands Slotgate answers itself (`PING`, `ECHO`, `SELECT`, `QUIT`);
/// 6. signing in, then the other commands about the client's own connection;
/// 7. `CLIENT LIST`, `KILL`, `UNBLOCK`, `INFO` about every client;
/// 8. the cluster's command table: unknown commands and wrong arities are refused;
/// 9. blocking commands, on a link of the client's own (or parked while their master is down);
/// 10. the command's role: routed by its keys, split, broadcast, every node, or refused.
struct CommandPlanner {
    /// The cluster as the loop sees it; `nil` before the first slot map.
    let view: ClusterView?
    /// Why there is no view, for the `CLUSTERDOWN` clients get meanwhile.
    let unavailableReason: String
    let authenticator: ClientAuthenticator
    /// Whether `CONFIG SET` may go to every node (`config-set-broadcast`).
    let configSetBroadcast: Bool
    /// The address Slotgate gives as its own, for the `CLUSTER` facade.
    let identity: ProxyIdentity

    /// What the client is in the middle of, as far as the way of its next command goes.
    struct SessionFacts {
        var isAuthenticated: Bool
        var user: String
        var usesRESP3: Bool
        /// A transaction is in progress (from `WATCH` or `MULTI` to its end).
        var inTransaction: Bool
        /// Between `MULTI` and `EXEC`/`DISCARD`.
        var inMulti: Bool
        /// Subscribed, or asked to be.
        var isSubscribed: Bool
        /// The client has subscriber links, which answer a `PING` while subscribed.
        var hasSubscriberLinks: Bool
        /// The client's id (`CLIENT KILL … SKIPME`).
        var clientID: Int
        /// When the command already waited for an unreachable node (it was parked and is tried
        /// again), the end of that wait; `nil` for a command that has not waited, which may wait
        /// ``PlanningNodes/holdDuration`` from now. Read only for a command that would wait, so a
        /// command that would not costs no clock read.
        var parkDeadline: NIODeadline?
    }

    /// Names whose client must be signed in first, but for these.
    private static let allowedBeforeSignIn: Set<String> = ["auth", "hello", "quit"]

    /// The way `command` (lower-case name `name`) takes. `nodes` names the master for a slot and
    /// tells which nodes are down, for commands that need a link of the client's own.
    func plan(_ command: RESPCommand, name: String, session: SessionFacts, nodes: some PlanningNodes) -> CommandPlan {
        guard session.isAuthenticated || Self.allowedBeforeSignIn.contains(name) else {
            return .refuse(ProxyErrors.noAuth, .routed)
        }
        if self.authenticator.enforcesACL {
            if let table = self.view?.commands,
                let denial = ACLCheck.denial(of: command, user: session.user, authenticator: self.authenticator, table: table)
            {
                return .refuse(denial, .routed)
            }
            if name == "acl" && !session.inTransaction {
                return .answer(ACLCheck.answer(command, user: session.user, authenticator: self.authenticator, table: self.view?.commands), .routed)
            }
        }
        let leaves = name == "reset" || name == "quit"
        if ClientSession.transactionCommands.contains(name) || (session.inMulti && !leaves) {
            return .transaction
        }
        if let plan = self.subscriptionPlan(name: name, session: session) {
            return plan
        }
        switch LocalCommand.answer(command, name: name) {
        case .reply(let bytes): return .answer(bytes, .local)
        case .replyAndClose(let bytes): return .quit(bytes)
        case nil: break
        }
        if ConnectionCommand.isAuthenticationAttempt(command, name: name) {
            let credentials = self.authenticator.checkedByCluster ? ConnectionCommand.credentials(in: command, name: name) : nil
            return .authenticate(throughCluster: credentials)
        }
        if name == "reset" {
            return .reset
        }
        if ConnectionCommand.handles(command, name: name) {
            return .connection
        }
        switch AllClientsCommand.read(command, name: name, clientID: session.clientID) {
        case .success(let about): return .allClients(about)
        case .failure(let refusal): return .refuse(refusal.message, .local)
        case nil: break
        }
        guard let view = self.view else { return .refuse(ProxyErrors.noSlotMap(self.unavailableReason), .local) }
        switch view.commands.lookup(command.arguments) {
        case .rejected(let message):
            return .refuse(message, .local)
        case .found(let spec):
            var keys = KeySlots()
            CommandTable.visitKeyIndexes(of: spec, in: command.arguments) { keys.add(command.arguments[$0]) }
            if Self.waitingWithoutFlag.contains(spec.name) {
                guard let master = nodes.master(for: nil) else { return .refuse(ProxyErrors.slotNotServed, .blocking) }
                return .wait(anyMaster: master)
            }
            if Self.blocks(command, spec: spec) {
                return self.blockingPlan(keys: keys, session: session, nodes: nodes)
            }
            return self.rolePlan(command, spec: spec, keys: keys, session: session)
        }
    }

    /// Subscription commands, and any command from a RESP2 client while subscribed (RESP3 clients
    /// may send any command); `nil` for a command that goes on.
    private func subscriptionPlan(name: String, session: SessionFacts) -> CommandPlan? {
        let subscribed = session.isSubscribed && !session.usesRESP3
        guard subscribed || ClientSession.subscriptionCommands.contains(name) else { return nil }
        switch name {
        case _ where ClientSession.subscriptionCommands.contains(name):
            return .pubSub
        case "ping":
            return session.hasSubscriberLinks ? .pubSub : nil
        case "reset", "quit":
            return nil
        default:
            return .refuse(ProxyErrors.notAllowedWhileSubscribed(name), .pubsub)
        }
    }

    // MARK: - Blocking commands

    /// Blocking commands that block only when given an option.
    private static let blockingOnlyWithOption: [String: String] = ["xread": "block", "xreadgroup": "block"]
    /// Commands that wait without the `blocking` flag: they wait for replicas, on links of the
    /// client's own (``CommandPlan/wait(anyMaster:)``), so that they never stall a shared link.
    private static let waitingWithoutFlag: Set<String> = ["wait", "waitaof"]

    /// Whether a command of `spec` may block (with some arguments, for `XREAD`).
    static func mayBlock(_ spec: CommandSpec) -> Bool {
        spec.flags.contains("blocking") || Self.waitingWithoutFlag.contains(spec.name)
    }

    /// Whether `command` blocks, so that it needs a link of the client's own.
    private static func blocks(_ command: RESPCommand, spec: CommandSpec) -> Bool {
        guard Self.mayBlock(spec) else { return false }
        guard let option = Self.blockingOnlyWithOption[spec.name] else { return true }
        return command.arguments.contains { String(buffer: $0).lowercased() == option }
    }

    private func blockingPlan(keys: KeySlots, session: SessionFacts, nodes: some PlanningNodes) -> CommandPlan {
        guard !keys.spansSlots else { return .refuse(ProxyErrors.crossSlot, .blocking) }
        guard let master = nodes.master(for: keys.slot) else { return .refuse(ProxyErrors.slotNotServed, .blocking) }
        if nodes.isKnownDown(master) && (session.parkDeadline ?? .now() + nodes.holdDuration) > .now() {
            return .park(master)
        }
        return .blocking(slot: keys.slot, master: master)
    }

    // MARK: - Roles

    /// The way of a command the cluster answers, by its role (see ``CommandRole``).
    private func rolePlan(_ command: RESPCommand, spec: CommandSpec, keys: KeySlots, session: SessionFacts) -> CommandPlan {
        switch CommandRole.of(spec.name) {
        case nil where spec.needsKeyLookup:
            return .cluster(.lookUpKeys)
        case nil:
            guard !keys.spansSlots else { return .refuse(ProxyErrors.crossSlot, .routed) }
            return .cluster(.route(slot: keys.slot, readOnly: spec.isReadOnly, hotKey: keys.firstKey))
        case .scriptRun:
            guard !keys.spansSlots else { return .refuse(ProxyErrors.crossSlot, .routed) }
            return .cluster(.route(slot: keys.slot, readOnly: spec.isReadOnly, script: command.arguments[1]))
        case .split(let merge, let keyStep):
            return .cluster(.split(spec, merge, keyStep: keyStep))
        case .broadcast(let merge):
            return .cluster(.broadcast(merge))
        case .scan:
            return .cluster(.scan)
        case .info:
            return .cluster(.info)
        case .configSet:
            return self.configSetPlan(command)
        case .resetStatistics:
            return .cluster(.resetStatistics)
        case .scriptExists:
            return .cluster(.scriptExists(shas: command.arguments.dropFirst(2).map { String(buffer: $0) }))
        case .scriptFlush:
            return .cluster(.scriptFlush)
        case .scriptLoad:
            return .cluster(.scriptLoad(body: command.arguments[2]))
        case .publish:
            return .cluster(.publish)
        case .killScript:
            return .cluster(.killScript)
        case .clusterFacade:
            return .answer(ClusterFacade.answer(command, subcommand: spec.name, address: self.identity.announcedAddress, resp3: session.usesRESP3), .local)
        case .routedBySlotArgument:
            guard let number = command.arguments[2].redisInteger else { return .refuse(ProxyErrors.notAnInteger, .routed) }
            guard let slot = HashSlot(rawValue: number) else {
                return .refuse(spec.name == "cluster|getkeysinslot" ? ProxyErrors.invalidSlotOrCount : ProxyErrors.invalidSlot, .routed)
            }
            return .cluster(.route(slot: slot, readOnly: false))
        case .refused(let reason):
            return .refuse(ProxyErrors.refused(spec.name.split(separator: "|").joined(separator: " ").uppercased(), reason), .routed)
        }
    }

    /// `CONFIG SET` goes to every node, masters and replicas, unless the operator turned that off
    /// (`config-set-broadcast no`) or a parameter would break the cluster.
    private func configSetPlan(_ command: RESPCommand) -> CommandPlan {
        guard self.configSetBroadcast else {
            return .refuse(ProxyErrors.refused("CONFIG SET", "a setting would change on one node only (config-set-broadcast is no)"), .broadcast)
        }
        let arguments = command.arguments
        guard arguments.count >= 4, arguments.count % 2 == 0 else { return .refuse(ProxyErrors.arity("config|set"), .broadcast) }
        var parameters: [(name: String, value: String)] = []
        for index in stride(from: 2, to: arguments.count, by: 2) {
            let name = String(buffer: arguments[index]).lowercased()
            if let refusal = NodeConfigChange.refusal(for: name) {
                return .refuse(refusal, .broadcast)
            }
            parameters.append((name, String(buffer: arguments[index + 1])))
        }
        return .cluster(.configSet(parameters))
    }
}

/// What the planner asks of the loop about nodes.
protocol PlanningNodes {
    /// The master of `slot`, or of the next shard in turn for a command without keys; `nil` while
    /// the slot has no owner.
    func master(for slot: HashSlot?) -> NodeAddress?
    /// Whether `node` refused its last connection and none has succeeded since.
    func isKnownDown(_ node: NodeAddress) -> Bool
    /// How long a command may wait for an unreachable node (``FailoverHold/duration``).
    var holdDuration: TimeAmount { get }
}
