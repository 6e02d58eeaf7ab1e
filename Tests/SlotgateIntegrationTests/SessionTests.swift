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
    /// Transactions and blocking commands behave as on a single Redis, and never hold up other
    /// clients' commands on the shared links.
    @Suite struct SessionTests {
        @Test func watchedKeyChangedByAnotherClientMakesExecReturnNil() throws {
            let (_, proxy) = try liveCluster()
            let client = try proxy.connect()
            let other = try proxy.connect()
            #expect(try client.command(["SET", "{watch}:balance", "10"]) == .simpleString("OK"))
            #expect(try client.command(["WATCH", "{watch}:balance"]) == .simpleString("OK"))
            #expect(try client.command(["GET", "{watch}:balance"]).string == "10")
            #expect(try other.command(["INCRBY", "{watch}:balance", "5"]) == .integer(15))
            #expect(try client.command(["MULTI"]) == .simpleString("OK"))
            #expect(try client.command(["SET", "{watch}:balance", "0"]) == .simpleString("QUEUED"))
            #expect(try client.command(["EXEC"]) == .null)
            #expect(try client.command(["GET", "{watch}:balance"]).string == "15")

            // Unchanged, the same transaction commits.
            #expect(try client.command(["WATCH", "{watch}:balance"]) == .simpleString("OK"))
            #expect(try client.command(["MULTI"]) == .simpleString("OK"))
            #expect(try client.command(["DECRBY", "{watch}:balance", "15"]) == .simpleString("QUEUED"))
            #expect(try client.command(["EXEC"]) == .array([.integer(0)]))
        }

        @Test func transactionAcrossSlotsIsAbortedLikeRedis() throws {
            let (_, proxy) = try liveCluster()
            let client = try proxy.connect()
            #expect(try client.command(["MULTI"]) == .simpleString("OK"))
            #expect(try client.command(["SET", "{tx-a}:k", "1"]) == .simpleString("QUEUED"))
            #expect(
                try client.command(["SET", "{tx-b}:k", "1"])
                    == .error(
                        "CROSSSLOT Keys in request don't hash to the same slot "
                            + "(cross-slot-transactions per-slot would run this transaction slot by slot)"
                    )
            )
            #expect(try client.command(["EXEC"]) == .error("EXECABORT Transaction discarded because of previous errors."))
            #expect(try client.command(["EXISTS", "{tx-a}:k"]) == .integer(0))
            #expect(try client.command(["EXEC"]) == .error("ERR EXEC without MULTI"))
            // Keyless commands first, then keys: Slotgate answers QUEUED until a key picks the node.
            #expect(try client.command(["MULTI"]) == .simpleString("OK"))
            #expect(try client.command(["PING"]) == .simpleString("QUEUED"))
            #expect(try client.command(["INCR", "{tx-a}:n"]) == .simpleString("QUEUED"))
            #expect(try client.command(["EXEC"]) == .array([.simpleString("PONG"), .integer(1)]))
            #expect(try client.command(["MULTI"]) == .simpleString("OK"))
            #expect(try client.command(["DISCARD"]) == .simpleString("OK"))
        }

        /// Transactions reuse the pooled links of the proxy's event loops: a hundred MULTI/EXEC in
        /// a row open almost no connections to the master. A watch ended by UNWATCH does not follow
        /// its link to the next transaction that link serves.
        @Test func transactionLinksAreReusedWithoutTheirWatches() throws {
            let (cluster, proxy) = try liveCluster()
            let key = "{pool}:counter"
            let master = try #require(try cluster.slotMap().master(for: HashSlot(key: key)))
            let node = try cluster.connect(master)
            func connectionsReceived() throws -> Int {
                let info = try node.command(["INFO", "stats"]).string ?? ""
                return LocalCluster.field("total_connections_received", in: info).flatMap { Int($0) } ?? -1
            }
            let client = try proxy.connect()
            #expect(try client.command(["DEL", key]).int != nil)
            let before = try connectionsReceived()
            for count in 1...100 {
                #expect(try client.command(["MULTI"]) == .simpleString("OK"))
                #expect(try client.command(["INCR", key]) == .simpleString("QUEUED"))
                #expect(try client.command(["EXEC"]) == .array([.integer(count)]))
            }
            let opened = try connectionsReceived() - before
            print("Session pool: 100 transactions opened \(opened) connection(s) to the master")
            #expect(opened <= 4)

            #expect(try client.command(["WATCH", key]) == .simpleString("OK"))
            #expect(try client.command(["UNWATCH"]) == .simpleString("OK"))
            let other = try proxy.connect()
            #expect(try client.command(["MULTI"]) == .simpleString("OK"))
            #expect(try client.command(["INCR", key]) == .simpleString("QUEUED"))
            #expect(try other.command(["INCR", key]) == .integer(101))
            #expect(try client.command(["EXEC"]) == .array([.integer(102)]))
        }

        @Test func hundredConcurrentTransactionsAllCommit() throws {
            let (_, proxy) = try liveCluster()
            let failures = FailureLog()
            let group = DispatchGroup()
            for worker in 0..<100 {
                group.enter()
                Thread {
                    defer { group.leave() }
                    do {
                        let client = try proxy.connect()
                        for round in 1...5 {
                            let key = "{tx\(worker)}:counter"
                            guard try client.command(["WATCH", key]) == .simpleString("OK"),
                                try client.command(["MULTI"]) == .simpleString("OK"),
                                try client.command(["INCR", key]) == .simpleString("QUEUED"),
                                try client.command(["SET", "{tx\(worker)}:round", "\(round)"]) == .simpleString("QUEUED")
                            else {
                                failures.add("worker \(worker) could not queue round \(round)")
                                return
                            }
                            let reply = try client.command(["EXEC"])
                            if reply != .array([.integer(round), .simpleString("OK")]) { failures.add("worker \(worker) round \(round): \(reply)") }
                        }
                    } catch {
                        failures.add("worker \(worker): \(error)")
                    }
                }.start()
            }
            #expect(group.wait(timeout: .now() + 120) == .success)
            #expect(failures.entries.isEmpty, "\(failures.entries.prefix(5))")
        }

        @Test func blockedPopIsWokenByAPushFromAnotherClient() throws {
            let (_, proxy) = try liveCluster()
            let popped = Counter()
            let result = FailureLog()
            let blocked = Thread {
                do {
                    let client = try proxy.connect()
                    let reply = try client.command(["BLPOP", "{jobs}:queue", "0"])
                    result.add("\(reply.array?.compactMap(\.string) ?? [])")
                } catch {
                    result.add("error: \(error)")
                }
                popped.increment()
            }
            blocked.start()
            let pusher = try proxy.connect()
            Thread.sleep(forTimeInterval: 0.3)
            #expect(popped.value == 0)
            #expect(try pusher.command(["LPUSH", "{jobs}:queue", "job-1"]) == .integer(1))
            try popped.waitUntil(atLeast: 1)
            #expect(result.entries == ["[\"{jobs}:queue\", \"job-1\"]"])
        }

        @Test func manyBlockedClientsDoNotSlowOthersAndLeavingFreesTheirLinks() throws {
            let (cluster, proxy) = try liveCluster()
            let map = try cluster.slotMap()
            let node = try #require(map.master(for: HashSlot(key: "parked")))
            let nodeLink = try cluster.connect(node)
            let blockedBefore = Self.blockedClients(nodeLink)

            var parked: [RawClient] = []
            for index in 0..<200 {
                let client = try RawClient(port: proxy.port)
                try client.send("*3\r\n$5\r\nBLPOP\r\n$\("{parked}:\(index)".utf8.count)\r\n{parked}:\(index)\r\n$1\r\n0\r\n")
                parked.append(client)
            }
            var blocked = 0
            for _ in 0..<100 where blocked < blockedBefore + 200 {
                blocked = Self.blockedClients(nodeLink)
                if blocked < blockedBefore + 200 { Thread.sleep(forTimeInterval: 0.05) }
            }
            #expect(blocked == blockedBefore + 200)

            // Meanwhile a third client's commands on the same node, over the shared link, are
            // answered (had they queued behind a BLPOP 0, they would never be).
            let other = try proxy.connect()
            for index in 0..<1000 { try other.append(["SET", "{parked}:free:\(index)", "1"]) }
            for _ in 0..<1000 { #expect(try other.readReply() == .simpleString("OK")) }
            #expect(try other.command(["GET", "{parked}:free:999"]).string == "1")

            // Clients that hang up while blocked free their node links.
            parked.removeAll()
            for _ in 0..<100 where blocked > blockedBefore {
                blocked = Self.blockedClients(nodeLink)
                if blocked > blockedBefore { Thread.sleep(forTimeInterval: 0.05) }
            }
            #expect(blocked == blockedBefore)
        }

        /// A node that lost its scripts (flushed, failed over, new) answers NOSCRIPT; Slotgate loads
        /// the script it saw loaded and runs the EVALSHA again, so the client never sees NOSCRIPT.
        @Test func noscriptIsHealedOnANodeThatLostTheScript() throws {
            let (cluster, proxy) = try liveCluster()
            let client = try proxy.connect()
            let sha = try #require(client.command(["SCRIPT", "LOAD", "return redis.call('INCR', KEYS[1])"]).string)
            let node = try #require(try cluster.slotMap().master(for: HashSlot(key: "healed")))
            #expect(try cluster.connect(node).command(["SCRIPT", "FLUSH"]) == .simpleString("OK"))
            #expect(try cluster.connect(node).command(["SCRIPT", "EXISTS", sha]) == .array([.integer(0)]))
            #expect(try client.command(["EVALSHA", sha, "1", "{healed}:n"]) == .integer(1))
            #expect(try client.command(["EVALSHA", sha, "1", "{healed}:n"]) == .integer(2))
            #expect(try cluster.connect(node).command(["SCRIPT", "EXISTS", sha]) == .array([.integer(1)]))
            // A script nobody loaded through Slotgate still gets the node's NOSCRIPT.
            let unknown = try client.command(["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "1", "{healed}:n"])
            #expect(unknown.string?.hasPrefix("NOSCRIPT") == true, "\(unknown)")
        }

        private static func blockedClients(_ connection: BlockingRedisConnection) -> Int {
            let info = (try? connection.command(["INFO", "clients"]).string) ?? ""
            let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("blocked_clients:") }
            return line.flatMap { Int($0.dropFirst("blocked_clients:".count)) } ?? -1
        }
    }
}

extension LiveClusterSuite.SessionTests {
    /// `requirepass`: nothing but AUTH, HELLO … AUTH and QUIT before the password, constant-time
    /// checked; RESET asks for it again, as Redis does.
    @Test func clientsMustAuthenticateWhenAPasswordIsRequired() async throws {
        let (cluster, _) = try liveCluster()
        let proxy = try await ProxyUnderTest.start(seeds: [cluster.nodes[0]]) { $0.requirePassword = "s3cret" }
        do {
            let client = try proxy.connect()
            #expect(try client.command(["GET", "k"]) == .error("NOAUTH Authentication required."))
            #expect(try client.command(["AUTH", "wrong"]) == .error("WRONGPASS invalid username-password pair or user is disabled."))
            #expect(try client.command(["AUTH", "someone", "s3cret"]) == .error("WRONGPASS invalid username-password pair or user is disabled."))
            #expect(try client.command(["HELLO", "2"]).string?.hasPrefix("NOAUTH HELLO must be called") == true)
            #expect(try client.command(["AUTH", "s3cret"]) == .simpleString("OK"))
            #expect(try client.command(["SET", "{auth}:k", "v"]) == .simpleString("OK"))
            #expect(try client.command(["RESET"]) == .simpleString("RESET"))
            #expect(try client.command(["GET", "{auth}:k"]) == .error("NOAUTH Authentication required."))
            let hello = try #require(client.command(["HELLO", "2", "AUTH", "default", "s3cret"]).keyValuePairs)
            #expect(hello.first { $0.key == "proto" }?.value == .integer(2))
            #expect(try client.command(["GET", "{auth}:k"]).string == "v")
            // HELLO 3 AUTH authenticates and switches to RESP3 in one go.
            let raw = try RawClient(port: proxy.port)
            try raw.send("HELLO 3 AUTH default s3cret\r\nGET {auth}:k\r\n")
            let answer = String(decoding: raw.receive(atLeast: 4), as: UTF8.self)
            #expect(answer.hasPrefix("%7\r\n"), "\(answer)")
        } catch {
            try await proxy.stop()
            throw error
        }
        try await proxy.stop()
    }
}

extension LiveClusterSuite.SessionTests {
    /// Commands pipelined behind a blocking command run after it, as one Redis would run them:
    /// the LRANGE sees what the BLMOVE moved.
    @Test func commandsBehindABlockingCommandRunAfterIt() throws {
        let (_, proxy) = try liveCluster()
        let client = try RawClient(port: proxy.port)
        try client.send(
            "BLMOVE {order}:src {order}:dst LEFT RIGHT 0\r\nLRANGE {order}:dst 0 -1\r\nCLIENT REPLY SKIP\r\nSET {order}:x 1\r\nGET {order}:x\r\n"
        )
        let pusher = try proxy.connect()
        #expect(try pusher.command(["RPUSH", "{order}:src", "job"]) == .integer(1))
        let expected = "$3\r\njob\r\n*1\r\n$3\r\njob\r\n$1\r\n1\r\n"
        #expect(String(decoding: client.receive(atLeast: expected.utf8.count), as: UTF8.self) == expected)
    }
}

extension LiveClusterSuite.SessionTests {
    /// Transactions sent in one write, as `pipeline(transaction=True)` sends them, get the answers
    /// one Redis gives, whatever the timing: a transaction across slots is refused in full, and a
    /// transaction right behind another runs as one, after it.
    @Test func pipelinedTransactionsGetRedisAnswers() throws {
        let (_, proxy) = try liveCluster()
        let client = try RawClient(port: proxy.port)
        try client.send("MULTI\r\nSET {piped-a}:k 1\r\nSET {piped-b}:k 1\r\nEXEC\r\nEXISTS {piped-a}:k\r\n")
        let refused =
            "+OK\r\n+QUEUED\r\n-CROSSSLOT Keys in request don't hash to the same slot "
            + "(cross-slot-transactions per-slot would run this transaction slot by slot)\r\n"
            + "-EXECABORT Transaction discarded because of previous errors.\r\n:0\r\n"
        #expect(String(decoding: client.receive(atLeast: refused.utf8.count), as: UTF8.self) == refused)

        try client.send(
            "MULTI\r\nSET {piped-a}:k 1\r\nEXEC\r\nWATCH {piped-a}:k\r\nMULTI\r\nINCR {piped-a}:k\r\nEXEC\r\n"
                + "MULTI\r\nINCR {piped-b}:k\r\nDISCARD\r\nGET {piped-a}:k\r\nEXISTS {piped-b}:k\r\n"
        )
        let committed =
            "+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n:2\r\n"
            + "+OK\r\n+QUEUED\r\n+OK\r\n$1\r\n2\r\n:0\r\n"
        #expect(String(decoding: client.receive(atLeast: committed.utf8.count), as: UTF8.self) == committed)
    }
}

extension LiveClusterSuite.SessionTests {
    /// A script run with `EVAL` lands in one master's cache only; Slotgate remembers its body, so
    /// `SCRIPT EXISTS` says 1 and `EVALSHA` runs it on every master, until `SCRIPT FLUSH`.
    @Test func scriptsRunWithEvalExistForEveryMaster() throws {
        let (cluster, proxy) = try liveCluster()
        let client = try proxy.connect()
        let body = "return 'ran:' .. (KEYS[1] or 'none')"
        let sha = "5c8463a987f24d8eb63f05129d1998c6895e7b64"  // SHA1 of `body`, as Redis names it
        #expect(try client.command(["SCRIPT", "FLUSH"]) == .simpleString("OK"))
        #expect(try client.command(["EVAL", body, "0"]).string == "ran:none")
        let map = try cluster.slotMap()
        let holders = try map.shards.map(\.master).filter { try cluster.connect($0).command(["SCRIPT", "EXISTS", sha]) == .array([.integer(1)]) }
        #expect(holders.count == 1, "a keyless EVAL runs on one master")
        #expect(try client.command(["SCRIPT", "EXISTS", sha, "ffffffffffffffffffffffffffffffffffffffff"]) == .array([.integer(1), .integer(0)]))
        for master in map.shards.map(\.master) {
            let key = "{\(LiveClusterSuite.TopologyChangeTests.tags("evalsha-", count: 1, servedBy: master, in: map)[0])}:k"
            #expect(try client.command(["EVALSHA", sha, "1", key]).string == "ran:\(key)", "on \(master)")
        }
        #expect(try client.command(["SCRIPT", "FLUSH"]) == .simpleString("OK"))
        #expect(try client.command(["SCRIPT", "EXISTS", sha]) == .array([.integer(0)]))
        #expect(try client.command(["EVALSHA", sha, "0"]).string?.hasPrefix("NOSCRIPT") == true)
    }
}

extension LiveClusterSuite.SessionTests {
    /// `SCRIPT KILL` reaches the master that runs the script, whichever it is, though the script
    /// came over the very shared link a `SCRIPT KILL` would take (one event loop); with no script
    /// running anywhere, the answer is Redis's `NOTBUSY`.
    @Test func scriptKillReachesTheMasterRunningTheScript() async throws {
        let (cluster, _) = try liveCluster()
        let proxy = try await ProxyUnderTest.start(seeds: [cluster.nodes[0]]) { $0.threads = 1 }
        do {
            let client = try proxy.connect()
            #expect(try client.command(["CONFIG", "SET", "busy-reply-threshold", "10"]) == .simpleString("OK"))
            let runner = try proxy.connect()
            try runner.append(["EVAL", "while true do end", "0"])
            try runner.flush()
            try await Task.sleep(for: .milliseconds(300))
            #expect(try client.command(["SCRIPT", "KILL"]) == .simpleString("OK"))
            #expect(try runner.readReply().string?.contains("Script killed by user with SCRIPT KILL") == true)
            #expect(try client.command(["SCRIPT", "KILL"]).string?.hasPrefix("NOTBUSY") == true)
            #expect(try client.command(["CONFIG", "SET", "busy-reply-threshold", "5000"]) == .simpleString("OK"))
        } catch {
            try? await proxy.stop()
            throw error
        }
        try await proxy.stop()
    }
}

extension LiveClusterSuite.SessionTests {
    /// `CLIENT UNBLOCK` ends another client's blocking command as Redis does: with a nil reply
    /// (`TIMEOUT`, the default) or `-UNBLOCKED` (`ERROR`); nothing is popped, and a client that
    /// does not wait is not unblocked.
    @Test func clientUnblockEndsABlockingCommand() async throws {
        let (_, proxy) = try liveCluster()
        let other = try proxy.connect()
        let blocked = try proxy.connect()
        let id = try #require(try blocked.command(["CLIENT", "ID"]).int)
        for (mode, expected) in [([String](), RESPValue.null), (["ERROR"], .error("UNBLOCKED client unblocked via CLIENT UNBLOCK"))] {
            try blocked.append(["BLPOP", "{unblock}:list", "0"])
            try blocked.flush()
            var unblocked = 0
            for _ in 0..<100 where unblocked == 0 {
                try await Task.sleep(for: .milliseconds(20))
                unblocked = try #require(try other.command(["CLIENT", "UNBLOCK", "\(id)"] + mode).int)
            }
            #expect(unblocked == 1)
            #expect(try blocked.readReply() == expected, "\(mode)")
        }
        #expect(try other.command(["CLIENT", "UNBLOCK", "\(id)"]) == .integer(0))
        #expect(try other.command(["CLIENT", "UNBLOCK", "\(id)", "LATER"]) == .error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"))
        #expect(try blocked.command(["RPUSH", "{unblock}:list", "kept"]) == .integer(1))
        #expect(try blocked.command(["LRANGE", "{unblock}:list", "0", "-1"]) == .array([.bulkString(Array("kept".utf8))]))
    }
}

extension LiveClusterSuite.SessionTests {
    /// Past `auth-failure-limit` wrong passwords from one address in a minute, that address's
    /// attempts are refused unchecked, even with the right password; the admin port counts both.
    @Test func failedAuthAttemptsAreLimitedPerAddressAndCounted() async throws {
        let admin = try FreePorts.findBase(count: 1, busOffset: 0)
        try await withOwnProxy({
            $0.requirePassword = "right"
            $0.authFailureLimit = 3
            $0.adminPort = admin
        }) { proxy in
            let client = try proxy.connect()
            for _ in 0..<3 {
                #expect(try client.command(["AUTH", "wrong"]) == .error("WRONGPASS invalid username-password pair or user is disabled."))
            }
            let refused = try #require(try client.command(["AUTH", "right"]).errorText)
            #expect(refused.hasPrefix("ERR too many failed AUTH attempts from this address; try again in "), "\(refused)")
            #expect(try proxy.connect().command(["HELLO", "3", "AUTH", "default", "right"]).errorText?.hasPrefix("ERR too many failed AUTH") == true)
            #expect(try client.command(["GET", "k"]) == .error("NOAUTH Authentication required."))
            let metrics = try AdminHTTP.get("/metrics", port: admin).body
            #expect(metrics.contains("slotgate_auth_failures_total 3"), "\(metrics)")
            #expect(metrics.contains("slotgate_auth_refused_total 2"), "\(metrics)")
        }
    }
}
