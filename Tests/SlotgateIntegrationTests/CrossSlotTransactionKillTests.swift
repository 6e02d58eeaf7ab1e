//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import SlotgateCluster
import SlotgateConfiguration
import SlotgateProxy
import SlotgateRESP
import Testing

extension LiveClusterSuite.CrossSlotTransactionTests {
    /// What one element of a per-slot `EXEC` said about its write.
    private enum Claim: Hashable {
        case committed, didNotRun, mayHaveRun, other
    }

    /// A master killed with SIGKILL while its share of a per-slot transaction runs, and the
    /// transactions that follow while it is down and after it restarts (1.5 s later). The shares on the other
    /// masters commit; the dead master's share says it may have run (it was sent) or did not run
    /// (it could not be sent). Afterwards every write a reply called committed is there, and
    /// none that a reply said did not run. The killed master keeps what it acknowledged
    /// (`appendfsync always`), so what is checked is Slotgate's word, not replication's.
    @Test func aMasterKilledBetweenTheSlotsCommitsLosesNothingCalledCommitted() async throws {
        try await LiveClusterSuite.TopologyChangeTests.withOwnCluster(nodeTimeout: 5000, configure: { $0.crossSlotTransactions = .perSlot }) {
            cluster,
            proxy in
            let map = try cluster.slotMap()
            let masters = map.shards.map(\.master)
            let tags = masters.map { "{" + LiveClusterSuite.TopologyChangeTests.tags("kill", count: 1, servedBy: $0, in: map)[0] + "}" }
            let victim = masters[1]
            try Self.makeDurable(victim, in: cluster)

            let client = try proxy.connect()
            let transactions = 200
            let killedOne = 40
            var claims: [[Claim]] = []
            for number in 0..<transactions {
                #expect(try client.command(["MULTI"]) == .simpleString("OK"))
                var commands = tags.map { ["SET", "\($0):\(number)", "v\(number)"] }
                if number == killedOne {
                    // The victim's share runs a script that keeps it busy for 2 s; the kill comes after 0.3 s.
                    commands.insert(["EVAL", Self.busyScript, "1", "\(tags[1]):busy"], at: 2)
                    Thread {
                        Thread.sleep(forTimeInterval: 0.3)
                        try? cluster.crash(victim)
                        Thread.sleep(forTimeInterval: 1.5)
                        try? cluster.restart(victim)
                    }.start()
                }
                for command in commands {
                    #expect(try client.command(command) == .simpleString("QUEUED"))
                }
                let elements = try #require(try client.command(["EXEC"]).array, "transaction \(number)")
                #expect(elements.count == commands.count)
                claims.append(elements.map(Self.claim))
                if number > killedOne {
                    // Spread the rest over the outage and well past the restart.
                    try await Task.sleep(for: .milliseconds(20))
                }
                if number == killedOne {
                    let victimShare = try #require(elements[1].errorText)
                    #expect(victimShare.hasPrefix("ERR per-slot transaction: the commands for slot "))
                    #expect(victimShare.contains(" on node \(victim) may have run ("), "\(victimShare)")
                    #expect(elements[2] == elements[1])
                    #expect(elements[0] == .simpleString("OK") && elements[3] == .simpleString("OK"))
                    claims[number].remove(at: 2)
                }
            }
            #expect(try cluster.pid(of: victim) != nil, "the victim restarted")

            var lost: [String] = []
            var writtenThoughNotRun: [String] = []
            var mayHaveRunFound = 0
            for (number, transaction) in claims.enumerated() {
                for (tag, claim) in zip(tags, transaction) {
                    let key = "\(tag):\(number)"
                    let found = try client.command(["GET", key]) == .bulkString(Array("v\(number)".utf8))
                    switch claim {
                    case .committed where !found: lost.append(key)
                    case .didNotRun where found: writtenThoughNotRun.append(key)
                    case .mayHaveRun where found: mayHaveRunFound += 1
                    default: break
                    }
                }
            }
            let counts = Dictionary(claims.joined().map { ($0, 1) }, uniquingKeysWith: +)
            #expect(lost.isEmpty, "writes called committed but missing: \(lost)")
            #expect(writtenThoughNotRun.isEmpty, "writes said not to have run, but there: \(writtenThoughNotRun)")
            #expect(counts[.other] == nil, "replies that are neither committed nor a per-slot failure: \(claims)")
            #expect(counts[.mayHaveRun, default: 0] >= 1)
            #expect(claims.suffix(20).allSatisfy { $0 == [.committed, .committed, .committed] }, "every slot commits again after the restart")
            print(
                "per-slot kill test: \(transactions) transactions over 3 masters, \(transactions * 3) writes: "
                    + "\(counts[.committed, default: 0]) committed, \(counts[.didNotRun, default: 0]) did not run, "
                    + "\(counts[.mayHaveRun, default: 0]) may have run (\(mayHaveRunFound) of them found); "
                    + "\(lost.count) committed writes lost, \(writtenThoughNotRun.count) not-run writes found"
            )
        }
    }

    /// A script that keeps its node busy for 2 s, then writes its key.
    private static let busyScript = """
        local function now() local t = redis.call('TIME') return t[1] * 1000000 + t[2] end
        local started = now()
        while now() - started < 2000000 do end
        return redis.call('SET', KEYS[1], '1')
        """

    private static func claim(_ element: RESPValue) -> Claim {
        guard let error = element.errorText else { return element == .simpleString("OK") ? .committed : .other }
        if error.hasPrefix("ERR per-slot transaction:") && error.contains(" did not run (") { return .didNotRun }
        if error.hasPrefix("ERR per-slot transaction:") && error.contains(" may have run (") { return .mayHaveRun }
        return .other
    }

    /// Turns on the append-only file, written to disk at every write, and keeps it in the node's
    /// `redis.conf`, so the node restarts with every write it acknowledged.
    private static func makeDurable(_ node: NodeAddress, in cluster: LocalCluster) throws {
        let link = try cluster.connect(node)
        #expect(try link.command(["CONFIG", "SET", "appendonly", "yes", "appendfsync", "always"]) == .simpleString("OK"))
        #expect(try link.command(["CONFIG", "REWRITE"]) == .simpleString("OK"))
        for _ in 0..<200 {
            let persistence = try link.command(["INFO", "persistence"]).string ?? ""
            if LocalCluster.field("aof_rewrite_in_progress", in: persistence) == "0"
                && LocalCluster.field("aof_rewrite_scheduled", in: persistence) == "0"
                && LocalCluster.field("aof_enabled", in: persistence) == "1"
            {
                return
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw HarnessError("the append-only file of \(node) was not ready within 10 s")
    }
}
