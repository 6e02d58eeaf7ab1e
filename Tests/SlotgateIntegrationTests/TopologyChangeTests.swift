//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import SlotgateCluster
import SlotgateConfiguration
import SlotgateProxy
import SlotgateRESP
import Testing

extension LiveClusterSuite {
    /// Nodes crash, stall, restart, fail over, join and leave while clients keep working through
    /// the proxy: clients see only what they must (commands in flight on a dead link, commands whose
    /// node stays unreachable past the hold), never an error they could have been spared.
    ///
    /// Each test breaks its cluster, so each starts a cluster (with a short node timeout unless it
    /// needs a long one) and a proxy of its own, and stops both however it ends. Every figure that
    /// matters is printed, so the test log shows how long failovers and holds really took.
    @Suite struct TopologyChangeTests {
        /// A master is killed with SIGKILL while 20 clients write and read keys of every master:
        /// only the writes in flight on the dead link fail (at most one per client, each with the
        /// "may have been executed" error), reads in flight are re-sent, commands for its slots wait
        /// until its replica is promoted and then succeed, and the other masters' clients never fail
        /// (they only wait while the whole cluster answers CLUSTERDOWN, between the master being
        /// flagged failed and its replica's promotion, which the proxy retries).
        @Test func masterCrashUnderLoadFailsOnlyInFlightWrites() async throws {
            try await Self.withOwnCluster(nodeTimeout: 2000) { cluster, proxy in
                let map = try cluster.slotMap()
                let masters = map.shards.map(\.master)
                let shard = try #require(map.shards.last)
                let victim = shard.master
                let heir = try #require(cluster.replicas(of: shard.master).first)
                let traffic = try Self.runningTraffic("crash", over: masters, in: map, through: proxy)
                defer { traffic.stop() }

                let clock = ContinuousClock()
                let killedAt = clock.now
                let othersBefore = traffic.operations { $0 != victim }
                traffic.resetLongestWaits()
                try cluster.crash(victim)
                try cluster.waitForRole("master", of: heir, timeout: .seconds(20))
                let promotion = clock.now - killedAt
                let othersDuringOutage = traffic.operations { $0 != victim } - othersBefore
                let victimsAtPromotion = traffic.operations { $0 == victim }
                try await Task.sleep(for: .milliseconds(2500))
                let victimsAfterPromotion = traffic.operations { $0 == victim } - victimsAtPromotion
                traffic.stop()

                // The whole cluster refuses (CLUSTERDOWN) between flagging the master failed and the
                // promotion; the proxy retries those refusals, so clients only wait.
                let absorbed = try masters.filter { $0 != victim }.map { master in
                    let stats = try cluster.connect(master).command(["INFO", "errorstats"]).string ?? ""
                    return Self.count(of: "CLUSTERDOWN", in: stats)
                }.reduce(0, +)
                let failures = traffic.failures
                print(
                    """
                    TopologyChange masterCrash: kill→promotion \(Self.ms(promotion)) ms; client errors \(failures.count) \
                    of \(traffic.operations { _ in true }) commands; other masters' commands during the outage \(othersDuringOutage); \
                    CLUSTERDOWN replies of the other masters absorbed by the proxy \(absorbed); dead master's commands in the 2.5 s \
                    after promotion \(victimsAfterPromotion); longest wait from the crash on: dead master's clients \
                    \(Self.ms(traffic.longestWait { $0 == victim })) ms, others \(Self.ms(traffic.longestWait { $0 != victim })) ms \
                    (sent \(traffic.longestWaitStart { $0 != victim }.map { Self.ms($0 - killedAt) } ?? -1) ms after the kill); \
                    reads older than the acknowledged write (async replication) \(traffic.staleReads.count)
                    """
                )
                #expect(failures.count <= traffic.clientCount, "\(failures.prefix(5))")
                for failure in failures {
                    #expect(
                        failure.master == victim
                            && failure.reply.hasPrefix("ERR Slotgate lost its connection to node \(victim)")
                            && failure.reply.contains("may have been executed")
                            && !failure.command.hasPrefix("GET "),
                        "\(failure)"
                    )
                }
                #expect(othersDuringOutage > 0)
                #expect(victimsAfterPromotion > 0)
                #expect(traffic.staleReads { $0 != victim }.isEmpty, "\(traffic.staleReads.prefix(5))")

                // Every key is readable after the promotion; those of the other masters hold exactly
                // the last acknowledged value.
                let check = try proxy.connect()
                for (key, (master, value)) in traffic.acknowledgedValues {
                    let reply = try check.command(["GET", key])
                    if master == victim {
                        #expect(reply.string.flatMap { Int($0) } != nil, "GET \(key): \(reply)")
                    } else {
                        #expect(reply.string == "\(value)", "GET \(key): \(reply)")
                    }
                }
            }
        }

        /// A master dies after its only replica: no one can take over, so a command for its slots
        /// waits for the whole `failover-hold` (1.5 s) and then fails with a CLUSTERDOWN that names
        /// the node and the hold. Other masters' slots are served at once until the cluster itself
        /// flags the node failed; from then on the other masters refuse with their own
        /// `CLUSTERDOWN The cluster is down` (`cluster-require-full-coverage yes`), which the proxy
        /// retries for the hold and then passes on.
        @Test func masterCrashWithoutReplicaFailsAfterTheHold() async throws {
            try await Self.withOwnCluster(nodeTimeout: 2000, configure: { $0.failoverHold = .milliseconds(1500) }) { cluster, proxy in
                let map = try cluster.slotMap()
                let shard = try #require(map.shards.last)
                let victim = shard.master
                let replica = try #require(cluster.replicas(of: victim).first)
                let other = try #require(map.shards.first?.master)
                let victimKey = "{\(Self.tags("orphan-", count: 1, servedBy: victim, in: map)[0])}:v"
                let otherKey = "{\(Self.tags("bystander-", count: 1, servedBy: other, in: map)[0])}:v"
                let client = try proxy.connect()
                let bystander = try proxy.connect()
                #expect(try client.command(["SET", victimKey, "before"]) == .simpleString("OK"))
                #expect(try bystander.command(["SET", otherKey, "before"]) == .simpleString("OK"))

                try cluster.crash(replica)
                try cluster.waitUntilFailed(replica, seenBy: victim)
                let clock = ContinuousClock()
                try cluster.crash(victim)
                let killedAt = clock.now
                try client.append(["SET", victimKey, "after"])
                try client.flush()
                // Well inside the 2 s node timeout: the cluster still serves every other slot.
                let bystanderStart = clock.now
                let bystanderReply = try bystander.command(["SET", otherKey, "during"])
                let bystanderLatency = clock.now - bystanderStart
                let heldReply = try client.readReply()
                let heldFor = clock.now - killedAt

                // Once the masters flag the node failed, the cluster is down for every slot.
                try cluster.waitForClusterState("fail", seenBy: other)
                let downStart = clock.now
                let downReply = try bystander.command(["GET", otherKey])
                let downLatency = clock.now - downStart
                print(
                    """
                    TopologyChange noReplica: dead master's command answered after \(Self.ms(heldFor)) ms with \(heldReply); \
                    other master's command took \(Self.ms(bystanderLatency)) ms (\(bystanderReply)); once the cluster was down \
                    it got \(downReply) after \(Self.ms(downLatency)) ms
                    """
                )
                #expect(
                    heldReply
                        == .error(
                            "CLUSTERDOWN node \(victim) is unreachable (Connection refused) and no replica took over its slots within 1500 ms"
                        )
                )
                #expect(heldFor >= .milliseconds(1400) && heldFor < .milliseconds(4000))
                #expect(bystanderReply == .simpleString("OK"))
                #expect(bystanderLatency < .milliseconds(500))
                // The node's own refusal, passed on after the proxy retried it for the whole hold.
                #expect(downReply == .error("CLUSTERDOWN The cluster is down"))
                #expect(downLatency >= .milliseconds(1400) && downLatency < .milliseconds(4000))
            }
        }

        /// A master is killed and started again from its own configuration after about a second,
        /// too soon for a failover (node timeout 15 s): clients writing to its slots see at most the
        /// commands in flight at the crash fail, and a command sent while it was down is held and
        /// answered once it is back.
        @Test func restartedMasterServesHeldCommands() async throws {
            try await Self.withOwnCluster(nodeTimeout: 15000) { cluster, proxy in
                let map = try cluster.slotMap()
                let victim = try #require(map.shards.last?.master)
                let workers = (0..<4).map { index in
                    KeyTraffic.Worker(master: victim, tags: Self.tags("restart\(index)-", count: 5, servedBy: victim, in: map))
                }
                let traffic = KeyTraffic(port: proxy.port, workers: workers)
                traffic.start()
                defer { traffic.stop() }
                try traffic.waitForOperations(atLeast: 1000)

                let lateKey = "{\(Self.tags("late-", count: 1, servedBy: victim, in: map)[0])}:v"
                let late = try proxy.connect()
                let clock = ContinuousClock()
                try cluster.crash(victim)
                let killedAt = clock.now
                try await Task.sleep(for: .milliseconds(300))
                try late.append(["SET", lateKey, "held"])
                try late.flush()
                let sentAt = clock.now
                try await Task.sleep(for: .milliseconds(700))
                try cluster.restart(victim)
                let restartedAt = clock.now
                let operationsAtRestart = traffic.operations { _ in true }
                let lateReply = try late.readReply()
                let lateWait = clock.now - sentAt
                try await Task.sleep(for: .milliseconds(2000))
                let operationsAfterRestart = traffic.operations { _ in true } - operationsAtRestart
                traffic.stop()

                let failures = traffic.failures
                print(
                    """
                    TopologyChange restart: down \(Self.ms(restartedAt - killedAt)) ms; command sent while down answered after \
                    \(Self.ms(lateWait)) ms with \(lateReply); client errors \(failures.count); longest wait \
                    \(Self.ms(traffic.longestWait { _ in true })) ms; commands in the 2 s after the restart \(operationsAfterRestart); \
                    reads that found the key gone (the restart kept no data) \(traffic.staleReads.count)
                    """
                )
                #expect(lateReply == .simpleString("OK"))
                #expect(try late.command(["GET", lateKey]).string == "held")
                #expect(failures.count <= traffic.clientCount, "\(failures.prefix(5))")
                for failure in failures {
                    #expect(
                        failure.reply.hasPrefix("ERR Slotgate lost its connection to node \(victim)") && !failure.command.hasPrefix("GET "),
                        "\(failure)"
                    )
                }
                #expect(operationsAfterRestart > 0)
                // The node keeps nothing over a restart (no persistence): a GET in flight at the crash
                // is re-sent and finds its key gone. Nothing else may read wrong.
                #expect(traffic.staleReads.count <= workers.count)
                #expect(traffic.staleReads.allSatisfy { $0.hasSuffix(": null") }, "\(traffic.staleReads.prefix(5))")
            }
        }

        /// Once Slotgate knows a master is down, a transaction and a blocking command for its slots
        /// wait for the promotion (parked, like held commands) and then run on the new master: the
        /// transaction commits, the BLPOP times out normally, and neither client sees an error.
        @Test func transactionAndBlockingCommandWaitForThePromotion() async throws {
            try await Self.withOwnCluster(nodeTimeout: 2000) { cluster, proxy in
                let map = try cluster.slotMap()
                let victim = try #require(map.shards.last?.master)
                let heir = try #require(cluster.replicas(of: victim).first)
                let tag = Self.tags("parked-", count: 1, servedBy: victim, in: map)[0]
                let writer = try proxy.connect()
                #expect(try writer.command(["SET", "{\(tag)}:plain", "0"]) == .simpleString("OK"))
                let clock = ContinuousClock()
                let killedAt = clock.now
                try cluster.crash(victim)
                // A plain command lets Slotgate find the master down; it is held until the promotion.
                let plainReply = Received<RESPValue>()
                let port = proxy.port
                let plain = Thread {
                    let client = try? BlockingRedisConnection(host: "127.0.0.1", port: port, timeout: .seconds(30))
                    plainReply.set((try? client?.command(["SET", "{\(tag)}:plain", "1"])) ?? .error("no reply"))
                }
                plain.start()
                try await Task.sleep(for: .milliseconds(300))
                let heirRoleAtStart = LocalCluster.field("role", in: try cluster.connect(heir).command(["INFO", "replication"]).string ?? "")

                let transaction = try proxy.connect()
                let transactionStart = clock.now
                #expect(try transaction.command(["MULTI"]) == .simpleString("OK"))
                #expect(try transaction.command(["INCR", "{\(tag)}:counter"]) == .simpleString("QUEUED"))
                let exec = try transaction.command(["EXEC"])
                let transactionWait = clock.now - transactionStart
                let blocking = try proxy.connect()
                let blpop = try blocking.command(["BLPOP", "{\(tag)}:list", "1"])
                try cluster.waitForRole("master", of: heir)
                let plainAnswer = try plainReply.wait()
                print(
                    """
                    TopologyChange parked: the heir was \(heirRoleAtStart ?? "?") when the transaction began; EXEC \(exec) after \
                    \(Self.ms(transactionWait)) ms; BLPOP \(blpop); plain SET \(plainAnswer); \
                    \(Self.ms(clock.now - killedAt)) ms after the kill in all
                    """
                )
                #expect(heirRoleAtStart == "slave")
                #expect(plainAnswer == .simpleString("OK"))
                #expect(exec == .array([.integer(1)]))
                #expect(blpop == .null)
            }
        }

        /// `CLUSTER FAILOVER` on a replica while 20 clients write and read keys of every master: the
        /// switch is coordinated (the master pauses, the replica catches up), and the proxy follows
        /// the MOVED replies, so clients see no error at all and every read sees the last write.
        @Test func manualFailoverUnderLoadIsInvisible() async throws {
            try await Self.withOwnCluster(nodeTimeout: 2000) { cluster, proxy in
                let map = try cluster.slotMap()
                let masters = map.shards.map(\.master)
                let shard = try #require(map.shards.first)
                let heir = try #require(cluster.replicas(of: shard.master).first)
                let traffic = try Self.runningTraffic("manual", over: masters, in: map, through: proxy)
                defer { traffic.stop() }

                let clock = ContinuousClock()
                let start = clock.now
                #expect(try cluster.connect(heir).command(["CLUSTER", "FAILOVER"]) == .simpleString("OK"))
                try cluster.waitForRole("master", of: heir)
                let promotion = clock.now - start
                try cluster.waitForRole("slave", of: shard.master)
                let shardBefore = traffic.operations { $0 == shard.master }
                try await Task.sleep(for: .milliseconds(2000))
                let shardAfter = traffic.operations { $0 == shard.master } - shardBefore
                traffic.stop()

                print(
                    """
                    TopologyChange manualFailover: promotion \(Self.ms(promotion)) ms; client errors \(traffic.failures.count) \
                    of \(traffic.operations { _ in true }) commands; longest wait \(Self.ms(traffic.longestWait { _ in true })) ms; \
                    failed-over shard's commands in the 2 s after \(shardAfter)
                    """
                )
                #expect(traffic.failures.isEmpty, "\(traffic.failures.prefix(5))")
                #expect(traffic.staleReads.isEmpty, "\(traffic.staleReads.prefix(5))")
                #expect(shardAfter > 0)
                #expect(try cluster.slotMap().shards.contains { $0.master == heir })
            }
        }

        /// A master is frozen with SIGSTOP (its sockets stay open, it answers nothing; node timeout
        /// 15 s, so no failover): with `request-timeout` 1 s a command sent to it fails after about a
        /// second with the timeout error, the other masters' commands stay fast meanwhile, and once the
        /// node runs again its slots work.
        @Test func stalledNodeTimesOutWithoutStallingOthers() async throws {
            try await Self.withOwnCluster(nodeTimeout: 15000, configure: { $0.requestTimeout = .seconds(1) }) { cluster, proxy in
                let map = try cluster.slotMap()
                let victim = try #require(map.shards.last?.master)
                let others = map.shards.map(\.master).filter { $0 != victim }
                let victimKey = "{\(Self.tags("frozen-", count: 1, servedBy: victim, in: map)[0])}:v"
                let stalled = try proxy.connect()
                #expect(try stalled.command(["SET", victimKey, "before"]) == .simpleString("OK"))
                // Two clients keep using the other masters throughout.
                let workers = others.map { KeyTraffic.Worker(master: $0, tags: Self.tags("lively\($0.port)-", count: 5, servedBy: $0, in: map)) }
                let traffic = KeyTraffic(port: proxy.port, workers: workers)
                traffic.start()
                defer { traffic.stop() }
                try traffic.waitForOperations(atLeast: 500)

                let clock = ContinuousClock()
                try cluster.suspend(victim)
                var resumed = false
                defer { if !resumed { try? cluster.resume(victim) } }
                traffic.resetLongestWaits()
                let othersBefore = traffic.operations { _ in true }
                let stallStart = clock.now
                let stalledReply = try stalled.command(["SET", victimKey, "during"])
                let stalledWait = clock.now - stallStart
                // A read sent to the frozen node: the same timeout, though reads are otherwise re-sent.
                let readStart = clock.now
                let stalledRead = try stalled.command(["GET", victimKey])
                let readWait = clock.now - readStart
                // A transaction on the frozen node: its own link is given up the same way, within the
                // timeout plus the once-a-second check, and EXEC aborts.
                let transactionStart = clock.now
                let multi = try stalled.command(["MULTI"])
                let queued = try stalled.command(["SET", victimKey, "in-transaction"])
                let exec = try stalled.command(["EXEC"])
                let transactionWait = clock.now - transactionStart
                let othersDuringStall = traffic.operations { _ in true } - othersBefore
                let othersLongest = traffic.longestWait { _ in true }
                let stall = clock.now - stallStart
                try cluster.resume(victim)
                resumed = true
                let afterResume = try stalled.command(["SET", victimKey, "after"])
                let readBack = try stalled.command(["GET", victimKey])
                traffic.stop()

                print(
                    """
                    TopologyChange stalledNode: write to the frozen master answered after \(Self.ms(stalledWait)) ms with \
                    \(stalledReply); read answered after \(Self.ms(readWait)) ms with \(stalledRead); during the \(Self.ms(stall)) ms \
                    stall \(othersDuringStall) commands to the other masters, longest \(Self.ms(othersLongest)) ms, errors \
                    \(traffic.failures.count); transaction: \(queued), EXEC \(exec) after \(Self.ms(transactionWait)) ms; after \
                    SIGCONT: \(afterResume), \(readBack)
                    """
                )
                let timeoutError = RESPValue.error(
                    "ERR Slotgate got no reply from node \(victim) within 1000 ms; the command may have been executed"
                )
                #expect(stalledReply == timeoutError)
                #expect(stalledWait >= .milliseconds(950) && stalledWait < .milliseconds(2500))
                #expect(stalledRead == timeoutError)
                #expect(readWait >= .milliseconds(950) && readWait < .milliseconds(2500))
                #expect(multi == .simpleString("OK"))
                #expect(queued == timeoutError)
                #expect({ if case .error(let message) = exec { message.hasPrefix("EXECABORT") } else { false } }(), "\(exec)")
                #expect(transactionWait < .milliseconds(3500))
                #expect(traffic.failures.isEmpty, "\(traffic.failures.prefix(5))")
                #expect(traffic.staleReads.isEmpty, "\(traffic.staleReads.prefix(5))")
                #expect(othersDuringStall > 100)
                #expect(othersLongest < .milliseconds(500))
                #expect(afterResume == .simpleString("OK"))
                #expect(readBack.string == "after")
            }
        }

        /// A seventh node joins (`redis-cli --cluster add-node`), takes 300 slots with their keys
        /// (`reshard`), serves the proxy's traffic for them, gives them back and leaves (`del-node`),
        /// all under live traffic: no client error, every key kept, and the proxy drops its links to
        /// the node once it has left the slot map.
        @Test func scaleOutAndInUnderLoad() async throws {
            try await Self.withOwnCluster(nodeTimeout: 5000) { cluster, proxy in
                let map = try cluster.slotMap()
                let source = try #require(map.shards.first?.master)
                let others = map.shards.map(\.master).filter { $0 != source }
                // redis-cli reshard takes a source's lowest slots first.
                let sourceSlots = (0..<HashSlot.count).filter { map.master(for: HashSlot(rawValue: $0)!) == source }
                let movedSlots = try #require(sourceSlots.first)...sourceSlots[299]
                #expect(sourceSlots[299] - sourceSlots[0] == 299)

                let setup = try proxy.connect()
                let keys = (0..<3000).map { "scale:\($0)" }
                for key in keys { try setup.append(["SET", key, key]) }
                for key in keys { #expect(try setup.readReply() == .simpleString("OK"), "SET \(key)") }
                var workers = (0..<4).map { index in
                    KeyTraffic.Worker(master: source, tags: Self.tags("moving\(index)-", count: 5, servedBy: source, in: map, slots: movedSlots))
                }
                workers += others.map { KeyTraffic.Worker(master: $0, tags: Self.tags("staying\($0.port)-", count: 5, servedBy: $0, in: map)) }
                let traffic = KeyTraffic(port: proxy.port, workers: workers)
                traffic.start()
                defer { traffic.stop() }
                try traffic.waitForOperations(atLeast: 1000)

                let extra = try cluster.startExtraNode()
                defer { cluster.stopExtraNode(extra) }
                let clock = ContinuousClock()
                let start = clock.now
                try cluster.redisCLI(["--cluster", "add-node", "\(extra)", "\(cluster.nodes[0])"])
                try Self.waitUntilAgreed(cluster, nodes: cluster.nodes + [extra])
                let extraID = try cluster.nodeID(extra)
                let sourceID = try cluster.nodeID(source)
                try Self.reshard(cluster, from: sourceID, to: extraID, slots: 300)
                let scaledOut = clock.now - start
                #expect(try cluster.slotMap().master(for: HashSlot(rawValue: movedSlots.lowerBound)!) == extra)
                #expect(try cluster.slotMap().master(for: HashSlot(rawValue: movedSlots.upperBound)!) == extra)
                let before = traffic.operations { _ in true }
                try traffic.waitForOperations(atLeast: before + 2000)
                let stats = try cluster.connect(extra).command(["INFO", "commandstats"]).string ?? ""
                let extraSets = Self.calls("set", in: stats)
                let extraGets = Self.calls("get", in: stats)

                let backStart = clock.now
                try Self.reshard(cluster, from: extraID, to: sourceID, slots: 300)
                try cluster.redisCLI(["--cluster", "del-node", "\(cluster.nodes[0])", extraID])
                let scaledIn = clock.now - backStart
                // Only the test's own connection may stay on the node that left. (The source master's
                // MIGRATE keeps its connection, running RESTORE-ASKING, cached for 10 s: not a client.)
                let observer = try cluster.connect(extra)
                let leftAt = clock.now
                var connections = -1
                var clientList: [Substring] = []
                while clock.now - leftAt < .seconds(5) {
                    clientList = (try observer.command(["CLIENT", "LIST"]).string ?? "").split(whereSeparator: \.isNewline).filter {
                        !$0.contains(" cmd=restore-asking ") && !$0.contains(" cmd=restore ")
                    }
                    connections = clientList.count
                    if connections == 1 { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                let linksClosedAfter = clock.now - leftAt
                try await Task.sleep(for: .milliseconds(500))
                traffic.stop()

                print(
                    """
                    TopologyChange scale: add-node + reshard of 300 slots \(Self.ms(scaledOut)) ms, back + del-node \
                    \(Self.ms(scaledIn)) ms; the new node served SET \(extraSets), GET \(extraGets); its connections after leaving: \
                    \(connections) (after \(Self.ms(linksClosedAfter)) ms); client errors \(traffic.failures.count) of \
                    \(traffic.operations { _ in true }) commands
                    """
                )
                #expect(extraSets > 0)
                #expect(extraGets > 0)
                #expect(connections == 1, "\(clientList)")
                #expect(traffic.failures.isEmpty, "\(traffic.failures.prefix(5))")
                #expect(traffic.staleReads.isEmpty, "\(traffic.staleReads.prefix(5))")
                #expect(try cluster.slotMap().master(for: HashSlot(rawValue: movedSlots.lowerBound)!) == source)
                for key in keys { try setup.append(["GET", key]) }
                for key in keys { #expect(try setup.readReply().string == key, "GET \(key)") }
            }
        }

        /// With `read-from replica`, GETs are served by the replicas (their `cmdstat_get` rises by
        /// every read, the masters' stays put), and a replica killed while four clients keep reading
        /// costs no read: those in flight are re-sent, the rest go elsewhere.
        @Test func readsFromReplicasSurviveAReplicaCrash() async throws {
            try await Self.withOwnCluster(
                nodeTimeout: 2000,
                configure: {
                    $0.readPolicy = .replica
                    $0.topologyRefreshInterval = .seconds(1)
                }
            ) { cluster, proxy in
                let map = try cluster.slotMap()
                let masters = map.shards.map(\.master)
                let replicas = try masters.flatMap { try cluster.replicas(of: $0) }
                #expect(replicas.count == 3)
                let workers = (0..<4).map { index in
                    KeyTraffic.Worker(master: masters[index % 3], tags: Self.tags("read\(index)-", count: 25, servedBy: masters[index % 3], in: map))
                }
                let keys = workers.flatMap { $0.tags.map { "{\($0)}:v" } }
                let client = try proxy.connect()
                for key in keys { try client.append(["SET", key, key]) }
                for key in keys { #expect(try client.readReply() == .simpleString("OK"), "SET \(key)") }
                // Every replica has every write: WAIT after a write of the test's own on each master.
                for master in masters {
                    let link = try cluster.connect(master)
                    let tag = Self.tags("sync-", count: 1, servedBy: master, in: map)[0]
                    #expect(try link.command(["SET", "{\(tag)}:sync", "1"]) == .simpleString("OK"))
                    #expect(try link.command(["WAIT", "1", "5000"]) == .integer(1))
                }

                // The monitor measures replica health once a second: wait until the replicas serve.
                let clock = ContinuousClock()
                let waitStart = clock.now
                var served = false
                while !served && clock.now - waitStart < .seconds(15) {
                    let before = try Self.getCalls(cluster, replicas)
                    for key in keys { try client.append(["GET", key]) }
                    for _ in keys { _ = try client.readReply() }
                    let after = try Self.getCalls(cluster, replicas)
                    served = zip(before, after).allSatisfy { $1 > $0 }
                    if !served { try await Task.sleep(for: .milliseconds(200)) }
                }
                let readyAfter = clock.now - waitStart
                #expect(served, "the replicas never served a read")

                let mastersBefore = try Self.getCalls(cluster, masters).reduce(0, +)
                let replicasBefore = try Self.getCalls(cluster, replicas).reduce(0, +)
                var wrong: [String] = []
                for _ in 0..<10 {
                    for key in keys { try client.append(["GET", key]) }
                    for key in keys {
                        let reply = try client.readReply()
                        if reply != .bulkString(Array(key.utf8)) { wrong.append("GET \(key): \(reply)") }
                    }
                }
                let reads = keys.count * 10
                let mastersServed = try Self.getCalls(cluster, masters).reduce(0, +) - mastersBefore
                let replicasServed = try Self.getCalls(cluster, replicas).reduce(0, +) - replicasBefore
                #expect(wrong.isEmpty, "\(wrong.prefix(5))")
                #expect(replicasServed >= reads)
                #expect(mastersServed <= reads / 100)

                // A replica dies under four reading clients.
                let traffic = KeyTraffic(port: proxy.port, workers: workers, readOnly: true)
                traffic.start()
                defer { traffic.stop() }
                try traffic.waitForOperations(atLeast: 2000)
                let victim = try #require(cluster.replicas(of: masters[0]).first)
                let survivors = replicas.filter { $0 != victim }
                let readsBeforeCrash = traffic.operations { _ in true }
                let shardMasterBefore = try Self.getCalls(cluster, [masters[0]])[0]
                let survivorsBefore = try Self.getCalls(cluster, survivors).reduce(0, +)
                traffic.resetLongestWaits()
                try cluster.crash(victim)
                try await Task.sleep(for: .milliseconds(3000))
                let readsAfterCrash = traffic.operations { _ in true } - readsBeforeCrash
                let shardMasterAfterCrash = try Self.getCalls(cluster, [masters[0]])[0] - shardMasterBefore
                let survivorsAfterCrash = try Self.getCalls(cluster, survivors).reduce(0, +) - survivorsBefore
                traffic.stop()

                print(
                    """
                    TopologyChange readFromReplica: replicas served reads after \(Self.ms(readyAfter)) ms; of \(reads) GETs the \
                    replicas served \(replicasServed), the masters \(mastersServed); replica crash: \(readsAfterCrash) reads in the \
                    3 s after (the dead replica's master served \(shardMasterAfterCrash), the other replicas \(survivorsAfterCrash)), \
                    failed reads \(traffic.failures.count), wrong values \(traffic.staleReads.count), longest read from the crash on \
                    \(Self.ms(traffic.longestWait { _ in true })) ms
                    """
                )
                #expect(traffic.failures.isEmpty, "\(traffic.failures.prefix(5))")
                #expect(traffic.staleReads.isEmpty, "\(traffic.staleReads.prefix(5))")
                #expect(readsAfterCrash > 1000)
                #expect(shardMasterAfterCrash > 0)
                #expect(survivorsAfterCrash > 0)
            }
        }

        // MARK: - Helpers

        /// Runs `body` against a cluster (with `nodeTimeout` ms) and a proxy of its own, and stops
        /// both whatever happens.
        /// 20 clients writing and reading keys of every master in turn, running, with 3,000
        /// commands answered already; the caller stops it.
        private static func runningTraffic(_ name: String, over masters: [NodeAddress], in map: SlotMap, through proxy: ProxyUnderTest) throws
            -> KeyTraffic
        {
            let workers = (0..<20).map { index in
                KeyTraffic.Worker(master: masters[index % 3], tags: Self.tags("\(name)\(index)-", count: 5, servedBy: masters[index % 3], in: map))
            }
            let traffic = KeyTraffic(port: proxy.port, workers: workers)
            traffic.start()
            do {
                try traffic.waitForOperations(atLeast: 3000)
            } catch {
                traffic.stop()
                throw error
            }
            return traffic
        }

        static func withOwnCluster(
            nodeTimeout: Int,
            configure: (inout ProxyConfiguration) -> Void = { _ in },
            _ body: (LocalCluster, ProxyUnderTest) async throws -> Void
        ) async throws {
            let cluster = try LocalCluster.start(nodeTimeout: nodeTimeout)
            do {
                try await ProxyUnderTest.run(seeds: [cluster.nodes[0], cluster.nodes[1]], configure: configure) { try await body(cluster, $0) }
            } catch {
                cluster.stop()
                throw error
            }
            cluster.stop()
        }

        /// `count` hash tags (`prefix` and a number) whose slots `master` serves, within `slots`.
        static func tags(_ prefix: String, count: Int, servedBy master: NodeAddress, in map: SlotMap, slots: ClosedRange<Int>? = nil) -> [String] {
            var found: [String] = []
            for number in 0..<5_000_000 where found.count < count {
                let tag = prefix + String(number)
                let slot = HashSlot(key: tag)
                if map.master(for: slot) == master && slots.map({ $0.contains(Int(slot.rawValue)) }) ?? true { found.append(tag) }
            }
            return found
        }

        /// `cmdstat_get` calls of each node.
        static func getCalls(_ cluster: LocalCluster, _ nodes: [NodeAddress]) throws -> [Int] {
            try nodes.map { Self.calls("get", in: try cluster.connect($0).command(["INFO", "commandstats"]).string ?? "") }
        }

        /// The `calls=` figure of `cmdstat_<command>` in an `INFO commandstats` text (0 when absent).
        static func calls(_ command: String, in stats: String) -> Int {
            guard let line = LocalCluster.field("cmdstat_" + command, in: stats), let calls = line.split(separator: ",").first else { return 0 }
            return Int(calls.dropFirst("calls=".count)) ?? 0
        }

        /// The `count=` figure of `errorstat_<prefix>` in an `INFO errorstats` text (0 when absent).
        static func count(of prefix: String, in stats: String) -> Int {
            guard let line = LocalCluster.field("errorstat_" + prefix, in: stats) else { return 0 }
            return Int(line.dropFirst("count=".count)) ?? 0
        }

        /// Waits (at most 20 s) until every node knows every other, with no handshake or failure
        /// pending, and all report `cluster_state:ok`, as `redis-cli --cluster reshard` requires.
        private static func waitUntilAgreed(_ cluster: LocalCluster, nodes: [NodeAddress]) throws {
            for _ in 0..<400 {
                let agreed = nodes.allSatisfy { node in
                    guard let link = try? cluster.connect(node), let info = (try? link.command(["CLUSTER", "INFO"]))?.string,
                        let table = (try? link.command(["CLUSTER", "NODES"]))?.string
                    else { return false }
                    return LocalCluster.field("cluster_state", in: info) == "ok"
                        && LocalCluster.field("cluster_known_nodes", in: info) == String(nodes.count)
                        && !table.contains("handshake") && !table.contains("fail") && !table.contains("noaddr")
                }
                if agreed { return }
                Thread.sleep(forTimeInterval: 0.05)
            }
            throw HarnessError("the nodes did not agree on the cluster within 20 s")
        }

        /// `redis-cli --cluster reshard` of `slots` slots, tried again (at most 5 times) while the
        /// nodes still disagree on the configuration after a change.
        private static func reshard(_ cluster: LocalCluster, from source: String, to target: String, slots: Int) throws {
            var lastError: any Error = HarnessError("no attempt")
            for attempt in 0..<5 {
                if attempt > 0 { Thread.sleep(forTimeInterval: 1) }
                do {
                    try cluster.redisCLI([
                        "--cluster", "reshard", "\(cluster.nodes[1])", "--cluster-from", source, "--cluster-to", target,
                        "--cluster-slots", String(slots), "--cluster-yes",
                    ])
                    return
                } catch {
                    lastError = error
                }
            }
            throw lastError
        }

        /// Whole milliseconds of a duration, for the printed figures.
        static func ms(_ duration: Duration) -> Int {
            Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
        }
    }
}
