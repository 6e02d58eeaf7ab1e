//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import NIOCore
import SlotgateCluster
import SlotgateConfiguration
import SlotgateProxy
import SlotgateRESP
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension LiveClusterSuite {
    /// What an operator relies on: the admin port (Prometheus metrics read by the Prometheus
    /// project's own parser, `/healthz` through a crash and failover, `/stats` and `/cluster` JSON,
    /// the `PROXY …` commands, `admin-password`), and the real `slotgate` process (SIGHUP reload,
    /// SIGTERM drain under load, `--check-config`, `stats`, `top`).
    ///
    /// Tests of the admin port start an in-process proxy of their own in front of the suite's
    /// cluster, with the admin port on a free port; tests of signals and subcommands run the built
    /// executable with a configuration file in a temporary directory, and end it by its PID. Only
    /// the `/healthz` failover test breaks a cluster, so it starts one of its own. Every figure
    /// that matters is printed.
    @Suite struct OperationsTests {
        /// `GET /metrics` after 300 SETs, 300 GETs and 20 MGETs, parsed by `prometheus_client`'s
        /// text parser (with the duplicate HELP/TYPE/series checks the Prometheus server adds):
        /// `slotgate_commands_total` counts at least what was sent per command, the latency
        /// quantiles exist for the routed and split classes and rise with the quantile, every
        /// master has its node gauges (link up, links, requests), the slot map version is at least
        /// 1 and the proxy reports itself healthy.
        @Test func metricsParseWithPrometheusClient() async throws {
            let (cluster, _) = try liveCluster()
            let masters = try cluster.slotMap().shards.map(\.master)
            try await Self.withAdminProxy { proxy, admin in
                let client = try proxy.connect()
                let keys = (0..<300).map { "ops:metrics:\($0)" }
                for key in keys { try client.append(["SET", key, key]) }
                for key in keys { #expect(try client.readReply() == .simpleString("OK"), "SET \(key)") }
                for key in keys { try client.append(["GET", key]) }
                for key in keys { #expect(try client.readReply().string == key, "GET \(key)") }
                let mgets = 20
                for index in 0..<mgets { try client.append(["MGET"] + keys[(index * 10)..<(index * 10 + 10)]) }
                for _ in 0..<mgets { #expect(try client.readReply().array?.count == 10) }

                let logPath = NSTemporaryDirectory() + "slotgate-ops-metrics-\(admin).log"
                let (status, output) = try ScriptRunner.run(
                    LocalCluster.repositoryRoot + "/Tests/clients/run_parse_metrics.sh",
                    ["http://127.0.0.1:\(admin)/metrics"],
                    logPath: logPath
                )
                try? FileManager.default.removeItem(atPath: logPath)
                #expect(status == 0, "run_parse_metrics.sh exited \(status):\n\(output)")
                let line = try #require(output.split(whereSeparator: \.isNewline).last { $0.hasPrefix("METRICS ") }, "\(output)")
                let metrics = try #require(
                    try JSONSerialization.jsonObject(with: Data(line.dropFirst("METRICS ".count).utf8)) as? [String: Any]
                )
                let commands = metrics["commands"] as? [String: [String: Double]] ?? [:]
                let quantiles = metrics["latency_quantiles"] as? [String: [String: Double]] ?? [:]
                let counts = metrics["latency_count"] as? [String: Double] ?? [:]
                let linkUp = metrics["node_link_up"] as? [String: Double] ?? [:]
                let links = metrics["node_links"] as? [String: Double] ?? [:]
                let requests = metrics["node_requests"] as? [String: Double] ?? [:]
                print(
                    """
                    Operations metrics: \(metrics["families"] ?? 0) families, \(metrics["samples"] ?? 0) samples \
                    (\(metrics["content_type"] ?? "")); commands set \(commands["set"] ?? [:]), get \(commands["get"] ?? [:]), \
                    mget \(commands["mget"] ?? [:]); latency routed \(quantiles["routed"] ?? [:]) count \(counts["routed"] ?? -1), \
                    split \(quantiles["split"] ?? [:]) count \(counts["split"] ?? -1); node link up \(linkUp), links \(links), \
                    requests \(requests); slot map version \(metrics["slot_map_version"] ?? "none"), slots \
                    \(metrics["slots_assigned"] ?? "none"), healthy \(metrics["healthy"] ?? "none"); \
                    exposition problems \(metrics["problems"] ?? [])
                    """
                )
                #expect((metrics["problems"] as? [String])?.isEmpty == true, "\(metrics["problems"] ?? "")")
                #expect((metrics["content_type"] as? String)?.hasPrefix("text/plain; version=0.0.4") == true)
                let types = metrics["types"] as? [String: String] ?? [:]
                #expect(types["slotgate_commands"] == "counter", "\(types)")
                #expect(types["slotgate_command_latency_seconds"] == "gauge", "\(types)")
                #expect(types["slotgate_node_link_up"] == "gauge", "\(types)")
                #expect(commands["set"]?["ok"] ?? 0 >= Double(keys.count))
                #expect(commands["get"]?["ok"] ?? 0 >= Double(keys.count))
                #expect(commands["mget"]?["ok"] ?? 0 >= Double(mgets))
                // No check of SET errors: ProxyUnderTest's readiness probe gets CLUSTERDOWN until the
                // first slot map.
                #expect(commands["get"]?["error"] == 0)
                for (commandClass, least) in [("routed", 2 * keys.count), ("split", mgets)] {
                    let values = ["0.5", "0.9", "0.99", "0.999"].map { quantiles[commandClass]?[$0] ?? -1 }
                    #expect(values.allSatisfy { $0 > 0 && $0 < 10 }, "\(commandClass): \(values)")
                    #expect(values == values.sorted(), "\(commandClass) quantiles must rise: \(values)")
                    #expect(counts[commandClass] ?? 0 >= Double(least), "\(commandClass) count")
                }
                for master in masters {
                    #expect(linkUp[master.description] == 1, "slotgate_node_link_up for \(master)")
                    #expect(links[master.description] ?? 0 >= 1, "slotgate_node_links for \(master)")
                    #expect(requests[master.description] ?? 0 >= 1, "slotgate_node_requests_total for \(master)")
                }
                #expect(metrics["slot_map_version"] as? Double ?? 0 >= 1)
                #expect(metrics["slots_assigned"] as? Double == 16384)
                #expect(metrics["healthy"] as? Double == 1)
            }
        }

        /// `/healthz` answers 200 "ok" while the cluster is whole; once a master is killed
        /// (SIGKILL, node timeout 2 s) it answers 503 naming that master, and once its replica has
        /// been promoted it answers 200 again. Both flips are polled (every 50 ms, bounded) and
        /// their delays printed.
        @Test func healthzFollowsAMasterCrashAndItsFailover() async throws {
            let cluster = try LocalCluster.start(nodeTimeout: 2000)
            defer { cluster.stop() }
            let admin = try FreePorts.findBase(count: 1, busOffset: 0)
            let proxy = try await ProxyUnderTest.start(seeds: [cluster.nodes[0], cluster.nodes[1]]) {
                $0.adminPort = admin
                $0.topologyRefreshInterval = .seconds(1)
            }
            do {
                let map = try cluster.slotMap()
                let victim = try #require(map.shards.last?.master)
                let heir = try #require(cluster.replicas(of: victim).first)
                // Links to every master, so the crash is seen as a lost link too.
                let client = try proxy.connect()
                let keys = (0..<100).map { "ops:health:\($0)" }
                for key in keys { try client.append(["SET", key, "1"]) }
                for key in keys { #expect(try client.readReply() == .simpleString("OK"), "SET \(key)") }

                let before = try AdminHTTP.get("/healthz", port: admin)
                #expect(before.status == 200)
                #expect(before.body == "ok\n")

                let clock = ContinuousClock()
                try cluster.crash(victim)
                let killedAt = clock.now
                var down = before
                while clock.now - killedAt < .seconds(10) {
                    down = try AdminHTTP.get("/healthz", port: admin)
                    if down.status != 200 { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                let noticedAfter = clock.now - killedAt
                let stats = try AdminHTTP.get("/stats", port: admin).json()

                try cluster.waitForRole("master", of: heir, timeout: .seconds(20))
                let promotedAt = clock.now
                var up = down
                while clock.now - promotedAt < .seconds(15) {
                    up = try AdminHTTP.get("/healthz", port: admin)
                    if up.status == 200 { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                let healthyAfter = clock.now - promotedAt
                print(
                    """
                    Operations healthz: killed \(victim); /healthz answered \(down.status) "\(down.body.trimmingCharacters(in: .newlines))" \
                    \(Self.ms(noticedAfter)) ms after the kill (/stats healthy \(stats["healthy"] ?? "?"), reason \
                    "\(stats["unhealthy_reason"] ?? "")"); \(heir) promoted \(Self.ms(promotedAt - killedAt)) ms after the kill; \
                    /healthz answered \(up.status) "\(up.body.trimmingCharacters(in: .newlines))" \(Self.ms(healthyAfter)) ms after \
                    the promotion
                    """
                )
                #expect(down.status == 503)
                #expect(down.body.contains(victim.description), "\(down.body)")
                #expect(noticedAfter < .seconds(5))
                #expect(stats["healthy"] as? Bool == false)
                #expect((stats["unhealthy_reason"] as? String)?.contains(victim.description) == true)
                #expect(up.status == 200)
                #expect(up.body == "ok\n")
                #expect(healthyAfter < .seconds(5))
            } catch {
                try? await proxy.stop()
                throw error
            }
            try await proxy.stop()
        }

        /// The admin port's JSON and `PROXY` commands after known traffic, with
        /// `slowlog-log-slower-than 0` (every command is slow) and an `admin-password`: HTTP
        /// without credentials gets 401, RESP gets NOAUTH until AUTH; `/stats`, `/cluster`,
        /// `PROXY INFO`, `CLUSTER`, `SLOWLOG` (unique ids, the node that served each command),
        /// `CONFIG GET/SET` (runtime directives change at once, restart-only ones and bad values
        /// are refused), `CLIENTS` (one line per client), `HOTKEYS` and `REFRESH` show what was
        /// sent and done.
        @Test func adminEndpointsAndCommands() async throws {
            let (cluster, _) = try liveCluster()
            let map = try cluster.slotMap()
            let password = "ops-secret"
            try await Self.withAdminProxy(configure: {
                $0.adminPassword = password
                $0.slowlogSlowerThan = 0
                $0.hotKeys = 8
            }) { proxy, admin in
                // Traffic: 3 named clients, 50 SET + 50 GET each; then 1,600 GETs of one hot key.
                let clients = try (0..<3).map { index in
                    let client = try proxy.connect()
                    #expect(try client.command(["CLIENT", "SETNAME", "ops-client-\(index)"]) == .simpleString("OK"))
                    return client
                }
                for (index, client) in clients.enumerated() {
                    for key in (0..<50).map({ "ops:admin:\(index):\($0)" }) {
                        #expect(try client.command(["SET", key, "v"]) == .simpleString("OK"))
                        #expect(try client.command(["GET", key]).string == "v")
                    }
                }
                // Slow log ids name entries uniquely and newest first, as Redis's SLOWLOG ids do. The
                // clients are spread over both event loops, each with a slow log of its own, and each has
                // logged about 100 commands so far: the merged log shows slowlog-max-len (128) of them,
                // with no id twice.
                let early = try BlockingRedisConnection(host: "127.0.0.1", port: admin, timeout: .seconds(10))
                #expect(try early.command(["AUTH", password]) == .simpleString("OK"))
                let allIDs = (try early.command(["PROXY", "SLOWLOG", "GET", "-1"]).array ?? []).compactMap { $0.array?.first?.int }
                #expect(allIDs.count == 128)
                #expect(allIDs == allIDs.sorted(by: >))
                #expect(Set(allIDs).count == allIDs.count, "\(allIDs.count) entries but \(Set(allIDs).count) distinct ids")
                let hotKey = "ops:admin:hot"
                #expect(try clients[0].command(["SET", hotKey, "h"]) == .simpleString("OK"))
                for _ in 0..<1600 { try clients[0].append(["GET", hotKey]) }
                for _ in 0..<1600 { _ = try clients[0].readReply() }

                // HTTP: 401 without credentials, with the wrong ones; 404 off the endpoints.
                let unauthorized = try AdminHTTP.get("/stats", port: admin)
                let wrongPassword = try AdminHTTP.get("/healthz", port: admin, password: "nope")
                let notFound = try AdminHTTP.get("/nope", port: admin, password: password)
                #expect(unauthorized.status == 401)
                #expect(unauthorized.head.lowercased().contains("www-authenticate: basic"))
                #expect(wrongPassword.status == 401)
                #expect(notFound.status == 404)
                #expect(try AdminHTTP.get("/healthz", port: admin, password: password).status == 200)

                // /stats
                let stats = try AdminHTTP.get("/stats", port: admin, password: password).json()
                let commands = stats["commands"] as? [String: [String: Int]] ?? [:]
                let latency = stats["latency_us"] as? [String: [String: Any]] ?? [:]
                let slotMap = stats["slot_map"] as? [String: Any] ?? [:]
                let config = stats["config"] as? [String: String] ?? [:]
                let connected = (stats["clients"] as? [String: Int])?["connected"] ?? -1
                let statsHotKeys = stats["hotkeys"] as? [[String: Any]] ?? []
                let statsSlowLog = stats["slowlog"] as? [[String: Any]] ?? []
                #expect(stats["healthy"] as? Bool == true)
                #expect(stats["unhealthy_reason"] as? String == "")
                #expect(stats["version"] as? String == SlotgateInfo.version)
                #expect(connected >= 3)
                #expect(commands["set"]?["calls"] ?? 0 >= 151)
                #expect(commands["get"]?["calls"] ?? 0 >= 1750)
                #expect(commands["get"]?["errors"] == 0)
                #expect(((latency["routed"]?["count"]) as? Int) ?? 0 >= 1900)
                for percentile in ["p50", "p90", "p99", "p99.9"] {
                    #expect(((latency["routed"]?[percentile]) as? Int) ?? 0 > 0, "latency_us.routed.\(percentile)")
                }
                #expect(slotMap["version"] as? Int ?? 0 >= 1)
                #expect(slotMap["masters"] as? Int == 3)
                #expect(slotMap["slots_assigned"] as? Int == 16384)
                #expect(config["slowlog-log-slower-than"] == "0")
                #expect(config["hotkeys"] == "8")
                #expect(config.keys.allSatisfy { !$0.contains("pass") }, "passwords leak into /stats: \(config.keys.sorted())")
                #expect(statsHotKeys.first?["key"] as? String == hotKey, "\(statsHotKeys)")
                #expect(!statsSlowLog.isEmpty)
                #expect(Set((stats["node_events"] as? [String: Int] ?? [:]).keys).isSuperset(of: ["moved", "ask", "link_lost", "timeout"]))

                // /cluster: ranges cover every slot once, in order, each owned by a master of the map.
                let clusterJSON = try AdminHTTP.get("/cluster", port: admin, password: password).json()
                let ranges = clusterJSON["ranges"] as? [[String: Any]] ?? []
                let nodes = clusterJSON["nodes"] as? [String: [String: Any]] ?? [:]
                let masters = Set(map.shards.map(\.master.description))
                let allNodes = Set(cluster.nodes.map(\.description))
                var nextSlot = 0
                for range in ranges {
                    #expect(range["start"] as? Int == nextSlot, "\(range)")
                    nextSlot = (range["end"] as? Int ?? -2) + 1
                    #expect(masters.contains(range["master"] as? String ?? ""), "\(range)")
                    #expect(Set(range["replicas"] as? [String] ?? ["none"]).isSubset(of: allNodes), "\(range)")
                }
                #expect(nextSlot == 16384)
                #expect(clusterJSON["slot_map_version"] as? Int ?? 0 >= 1)
                // Replicas appear once their master has taken a write (CLUSTER SLOTS leaves them out before).
                #expect(Set(nodes.keys).isSubset(of: allNodes) && Set(nodes.keys).isSuperset(of: masters), "\(nodes.keys.sorted())")
                for master in masters {
                    #expect(nodes[master]?["reachable"] as? Bool == true, "\(master)")
                    #expect(nodes[master]?["links"] as? Int ?? 0 >= 1, "\(master)")
                }

                // RESP: NOAUTH until AUTH; a wrong password is refused.
                let resp = try BlockingRedisConnection(host: "127.0.0.1", port: admin, timeout: .seconds(10))
                #expect(try resp.command(["PING"]) == .simpleString("PONG"))
                let noAuth = try resp.command(["PROXY", "INFO"])
                #expect(noAuth == .error("NOAUTH Authentication required."))
                #expect(try resp.command(["AUTH", "wrong"]).string?.hasPrefix("WRONGPASS") == true)
                #expect(try resp.command(["PROXY", "INFO"]) == .error("NOAUTH Authentication required."))
                #expect(try resp.command(["AUTH", password]) == .simpleString("OK"))

                // PROXY INFO and PROXY CLUSTER
                let info = try resp.command(["PROXY", "INFO"]).string ?? ""
                #expect(LocalCluster.field("slotgate_version", in: info) == SlotgateInfo.version)
                #expect(Int(LocalCluster.field("connected_clients", in: info) ?? "") ?? 0 >= 3)
                #expect(Int(LocalCluster.field("total_commands_processed", in: info) ?? "") ?? 0 >= 1900)
                #expect(LocalCluster.field("healthy", in: info) == "1")
                #expect(LocalCluster.field("masters", in: info) == "3")
                #expect(LocalCluster.field("slots_assigned", in: info) == "16384")
                #expect(LocalCluster.field("latency_us_routed", in: info)?.hasPrefix("count=") == true, "\(info)")
                let clusterText = try resp.command(["PROXY", "CLUSTER"]).string ?? ""
                // PROXY REFRESH: the monitor refreshes at once (the periodic refresh is 5 s apart).
                let refreshesBefore = Int(LocalCluster.field("topology_refreshes", in: info) ?? "") ?? -1
                #expect(try resp.command(["PROXY", "REFRESH"]) == .simpleString("OK"))
                var refreshesAfter = refreshesBefore
                for _ in 0..<50 where refreshesAfter == refreshesBefore {
                    try await Task.sleep(for: .milliseconds(20))
                    refreshesAfter = Int(LocalCluster.field("topology_refreshes", in: try resp.command(["PROXY", "INFO"]).string ?? "") ?? "") ?? -1
                }
                #expect(refreshesAfter > refreshesBefore, "topology_refreshes \(refreshesBefore) → \(refreshesAfter)")
                for master in masters {
                    #expect(clusterText.contains("node \(master) reachable links="), "\(clusterText)")
                }

                // PROXY HOTKEYS: the hot key first, with about the 1,600 GETs sampled.
                let hotKeys = try resp.command(["PROXY", "HOTKEYS"]).array ?? []
                let hottest = hotKeys.first?.string
                let hottestCount = hotKeys.dropFirst().first?.int ?? 0
                #expect(hottest == hotKey, "\(hotKeys)")
                #expect(hottestCount >= 800 && hottestCount <= 1700, "\(hotKeys)")
                #expect(hotKeys.count <= 16)

                // PROXY CLIENTS: one line per client, the three names among them.
                let clientList = try resp.command(["PROXY", "CLIENTS"]).string ?? ""
                let clientLines = clientList.split(whereSeparator: \.isNewline)
                for index in 0..<3 {
                    #expect(clientLines.contains { $0.contains(" name=ops-client-\(index) ") }, "\(clientList)")
                }
                #expect(clientLines.count >= 3, "\(clientList)")
                #expect(clientLines.allSatisfy { $0.hasPrefix("id=") && $0.components(separatedBy: "id=").count == 2 }, "\(clientList)")

                // PROXY SLOWLOG: every command is slow; entries are shaped like Redis's.
                let slowLogLength = try resp.command(["PROXY", "SLOWLOG", "LEN"]).int ?? -1
                let slowEntries = try resp.command(["PROXY", "SLOWLOG", "GET", "5"]).array ?? []
                #expect(slowLogLength >= 100, "\(slowLogLength)")
                #expect(slowEntries.count == 5)
                for entry in slowEntries {
                    let fields = entry.array ?? []
                    #expect(fields.count == 6, "\(entry)")
                    #expect(fields.first?.int != nil && (fields.dropFirst(2).first?.int ?? -1) >= 0, "\(entry)")
                    #expect(["set", "get", "client"].contains(fields.dropFirst(3).first?.array?.first?.string ?? ""), "\(entry)")
                }
                #expect(try resp.command(["PROXY", "SLOWLOG", "RESET"]) == .simpleString("OK"))
                #expect(try resp.command(["PROXY", "SLOWLOG", "LEN"]) == .integer(0))
                let probeKey = "ops:admin:probe"
                #expect(try clients[1].command(["SET", probeKey, "1"]) == .simpleString("OK"))
                #expect(try clients[1].command(["GET", probeKey]).string == "1")
                #expect(try clients[1].command(["PING"]) == .simpleString("PONG"))
                let afterReset = try resp.command(["PROXY", "SLOWLOG", "GET", "-1"]).array ?? []
                let commandsLogged = Set(afterReset.compactMap { $0.array?.dropFirst(3).first?.array?.first?.string })
                let setEntry = afterReset.first {
                    $0.array?.dropFirst(3).first?.array == [.bulkString(Array("set".utf8)), .bulkString(Array(probeKey.utf8))]
                }
                let probeMaster = map.master(for: HashSlot(key: probeKey))?.description
                #expect(afterReset.count == 3, "\(afterReset)")
                #expect(commandsLogged == ["set", "get", "ping"], "\(afterReset)")
                #expect(
                    setEntry?.array?.last?.string == probeMaster,
                    "SET \(probeKey) served by \(probeMaster ?? "?"): \(String(describing: setEntry))"
                )
                let ids = afterReset.compactMap { $0.array?.first?.int }
                #expect(Set(ids).count == ids.count, "slow log ids must be unique: \(ids)")

                // PROXY CONFIG GET / SET
                let slowlogConfig = try resp.command(["PROXY", "CONFIG", "GET", "slowlog*"])
                #expect(
                    slowlogConfig
                        == .array(["slowlog-log-slower-than", "0", "slowlog-max-len", "128"].map { .bulkString(Array($0.utf8)) }),
                    "\(slowlogConfig)"
                )
                #expect(try resp.command(["PROXY", "CONFIG", "SET", "slowlog-log-slower-than", "10000000"]) == .simpleString("OK"))
                #expect(try Self.configValue(resp, "slowlog-log-slower-than") == "10000000")
                #expect(try resp.command(["PROXY", "SLOWLOG", "RESET"]) == .simpleString("OK"))
                for _ in 0..<20 { _ = try clients[2].command(["GET", probeKey]) }
                let slowAfterRaise = try resp.command(["PROXY", "SLOWLOG", "LEN"])
                #expect(slowAfterRaise == .integer(0), "the raised threshold must apply at once")
                #expect(try resp.command(["PROXY", "CONFIG", "SET", "hotkeys", "2"]) == .simpleString("OK"))
                #expect((try resp.command(["PROXY", "HOTKEYS"]).array?.count ?? 99) <= 4)
                let portChange = try resp.command(["PROXY", "CONFIG", "SET", "port", "1234"])
                #expect(portChange.string?.hasPrefix("ERR 'port' takes effect only at start") == true, "\(portChange)")
                #expect(try Self.configValue(resp, "port") == "0")
                let unknown = try resp.command(["PROXY", "CONFIG", "SET", "no-such-directive", "1"])
                #expect(unknown.string?.hasPrefix("ERR unknown directive 'no-such-directive'") == true, "\(unknown)")
                let badValue = try resp.command(["PROXY", "CONFIG", "SET", "slowlog-max-len", "lots"])
                #expect(badValue.string?.hasPrefix("ERR 'lots' is not a whole number") == true, "\(badValue)")
                #expect(try Self.configValue(resp, "slowlog-max-len") == "128")
                // The configuration the HTTP side reports changed too.
                let configAfter = try AdminHTTP.get("/stats", port: admin, password: password).json()["config"] as? [String: String]
                #expect(configAfter?["slowlog-log-slower-than"] == "10000000")

                print(
                    """
                    Operations admin: HTTP without auth \(unauthorized.status), wrong password \(wrongPassword.status), unknown \
                    path \(notFound.status); /stats commands set \(commands["set"] ?? [:]) get \(commands["get"] ?? [:]), clients \
                    \(connected), routed latency \(latency["routed"] ?? [:]); /cluster \(ranges.count) ranges, \(nodes.count) nodes; \
                    RESP before AUTH \(noAuth); hot keys \(hotKeys.compactMap(\.string).prefix(3)) (hottest \(hottestCount)); \
                    slow log \(slowLogLength) entries \
                    (earlier \(allIDs.count) with \(Set(allIDs).count) distinct ids), after reset + SET/GET/PING \(afterReset.count) (ids \(ids)); \
                    PROXY CLIENTS \(clientLines.count) lines; \
                    PROXY REFRESH: refreshes \(refreshesBefore) → \(refreshesAfter); CONFIG SET port: \(portChange)
                    """
                )
            }
        }

        /// SIGHUP reloads the configuration file of the real process: `log-level debug` takes
        /// effect (PROXY CONFIG GET says so, and debug lines appear on standard error); a broken
        /// file is rejected with its reason in the log, the previous configuration stays (another
        /// directive the broken file changes keeps its old value) and the proxy keeps serving.
        @Test func sighupReloadsTheConfigurationFile() async throws {
            let (cluster, _) = try liveCluster()
            let ports = try FreePorts.findBase(count: 2, busOffset: 0)
            let (port, admin) = (ports, ports + 1)
            let configPath = NSTemporaryDirectory() + "slotgate-ops-reload-\(port).conf"
            defer { try? FileManager.default.removeItem(atPath: configPath) }
            let base = Self.configurationText(port: port, admin: admin, cluster: cluster)
            try (base + "log-level info\n").write(toFile: configPath, atomically: true, encoding: .utf8)
            let process = try SlotgateProcess.spawn(["--config", configPath], name: "reload")
            defer {
                process.stop()
                process.removeFiles()
            }
            try Self.waitUntilServing(process, port: port)
            let adminLink = try BlockingRedisConnection(host: "127.0.0.1", port: admin, timeout: .seconds(10))
            #expect(try Self.configValue(adminLink, "log-level") == "info")
            #expect(!process.log.contains(" level=debug "), "debug lines at log-level info:\n\(process.log)")

            // log-level debug
            let offset = process.log.utf8.count
            try (base + "log-level debug\n").write(toFile: configPath, atomically: true, encoding: .utf8)
            let clock = ContinuousClock()
            let sentAt = clock.now
            try process.send(SIGHUP)
            var level = ""
            while clock.now - sentAt < .seconds(5) {
                level = try Self.configValue(adminLink, "log-level") ?? ""
                if level == "debug" { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            let appliedAfter = clock.now - sentAt
            let reloaded = process.waitForLogLine(containing: ["msg=\"configuration reloaded\"", "log_level=debug"], after: offset)
            // New node links log "connecting to node" at debug: a RESP3 client opens a second set of
            // links (over a raw socket: hiredis 0.14 cannot read RESP3 replies).
            let resp3 = try RawClient(port: port)
            try resp3.send("HELLO 3\r\n" + (0..<30).map { "SET ops:reload:\($0) 1\r\n" }.joined())
            var resp3Replies = ""
            while resp3Replies.components(separatedBy: "+OK\r\n").count <= 30 {
                let bytes = resp3.receive(atLeast: 1)
                if bytes.isEmpty { break }
                resp3Replies += String(decoding: bytes, as: UTF8.self)
            }
            #expect(resp3Replies.hasPrefix("%") && resp3Replies.components(separatedBy: "+OK\r\n").count == 31, "\(resp3Replies)")
            let debugLine = process.waitForLogLine(containing: [" level=debug "], after: offset)

            // A broken file: rejected, with the file, line and reason; nothing of it applies.
            let rejectOffset = process.log.utf8.count
            try (base + "log-level warning\nslowlog-max-len 5\nno-such-directive 1\n").write(toFile: configPath, atomically: true, encoding: .utf8)
            try process.send(SIGHUP)
            let rejected = process.waitForLogLine(
                containing: ["msg=\"configuration reload rejected; the previous configuration stays\"", "reason="],
                after: rejectOffset
            )
            let brokenLine = base.split(separator: "\n").count + 3
            let client = try BlockingRedisConnection(host: "127.0.0.1", port: port, timeout: .seconds(10))
            let served = try client.command(["SET", "ops:reload:after", "ok"])
            let readBack = try client.command(["GET", "ops:reload:after"])
            print(
                """
                Operations SIGHUP: log-level \(level) \(Self.ms(appliedAfter)) ms after the signal; reload line: \(reloaded ?? "none"); \
                first debug line: \(debugLine ?? "none"); broken file: \(rejected ?? "none"); afterwards log-level \
                \(try Self.configValue(adminLink, "log-level") ?? "?"), slowlog-max-len \(try Self.configValue(adminLink, "slowlog-max-len") ?? "?"), \
                SET \(served), GET \(readBack)
                """
            )
            #expect(level == "debug")
            #expect(reloaded != nil, "no reload line in:\n\(process.log)")
            #expect(debugLine != nil, "no debug line after the reload in:\n\(process.log)")
            #expect(rejected?.contains("level=error") == true, "\(process.log)")
            #expect(rejected?.contains("\(configPath):\(brokenLine): unknown directive 'no-such-directive'") == true, "\(rejected ?? process.log)")
            #expect(try Self.configValue(adminLink, "log-level") == "debug")
            #expect(try Self.configValue(adminLink, "slowlog-max-len") == "128")
            #expect(served == .simpleString("OK"))
            #expect(readBack.string == "ok")
            #expect(process.isRunning)
        }

        /// SIGTERM while 50 clients each run `INCR` on a counter of their own, one command at a
        /// time, through the real process: it exits 0 within `shutdown-timeout` (5 s), every
        /// client ends on a closed connection, and for every counter, read from its master
        /// afterwards, the last value the client got acknowledged is at most the counter and at
        /// most one below it (the one command it had sent when the proxy stopped reading, which
        /// the proxy may have run but not answered). Nothing acknowledged is lost, nothing is run
        /// twice.
        @Test func sigtermDrainsBusyClientsLosingNoAcknowledgedReply() async throws {
            let (cluster, _) = try liveCluster()
            let ports = try FreePorts.findBase(count: 2, busOffset: 0)
            let (port, admin) = (ports, ports + 1)
            let configPath = NSTemporaryDirectory() + "slotgate-ops-drain-\(port).conf"
            defer { try? FileManager.default.removeItem(atPath: configPath) }
            try (Self.configurationText(port: port, admin: admin, cluster: cluster) + "shutdown-timeout 5000\n").write(
                toFile: configPath,
                atomically: true,
                encoding: .utf8
            )
            let process = try SlotgateProcess.spawn(["--config", configPath], name: "drain")
            defer {
                process.stop()
                process.removeFiles()
            }
            try Self.waitUntilServing(process, port: port)

            let run = UInt32.random(in: 0...UInt32.max)
            let keys = (0..<50).map { "ops:drain:\(run):\($0)" }
            let counters = CounterClients(port: port, keys: keys)
            counters.start()
            defer { counters.stop() }
            try counters.waitUntilEach(acknowledged: 20, timeout: .seconds(15))
            try await Task.sleep(for: .milliseconds(200))

            let clock = ContinuousClock()
            let ackedBefore = counters.totalAcknowledged
            let signalledAt = clock.now
            try process.send(SIGTERM)
            let status = process.waitForExit(timeout: .seconds(8))
            let exitedAfter = clock.now - signalledAt
            let ackedAfterSignal = counters.totalAcknowledged - ackedBefore
            let clientsEnded = counters.waitUntilAllEnded(timeout: .seconds(10))
            counters.stop()

            // The counters, read from their masters directly.
            let map = try cluster.slotMap()
            var links: [NodeAddress: BlockingRedisConnection] = [:]
            var lost: [String] = []
            var ranUnanswered = 0
            for (index, key) in keys.enumerated() {
                let master = try #require(map.master(for: HashSlot(key: key)))
                if links[master] == nil { links[master] = try cluster.connect(master) }
                let counter = try #require(links[master]).command(["GET", key]).int ?? 0
                let acknowledged = counters.lastAcknowledged[index]
                if counter == acknowledged + 1 {
                    ranUnanswered += 1
                } else if counter != acknowledged {
                    lost.append("\(key): acknowledged \(acknowledged), counter \(counter)")
                }
            }
            let drained = process.waitForLogLine(containing: ["msg=\"clients drained\""], timeout: .zero)
            print(
                """
                Operations SIGTERM: \(keys.count) clients, \(ackedBefore) INCRs acknowledged before the signal, \(ackedAfterSignal) \
                after it; exit status \(status.map(String.init) ?? "none (still running)") after \(Self.ms(exitedAfter)) ms; \
                clients ended \(clientsEnded) (\(counters.endings.sorted().prefix(3))); counters one above the acknowledged \
                value (run, reply lost) \(ranUnanswered), wrong counters \(lost.count); error replies \(counters.errorReplies.prefix(3)); \
                log: \(drained ?? "no drain line")
                """
            )
            #expect(status == 0, "\(process.log)")
            #expect(exitedAfter < .seconds(5) + .milliseconds(1500))
            #expect(clientsEnded)
            #expect(counters.errorReplies.isEmpty, "\(counters.errorReplies.prefix(5))")
            #expect(lost.isEmpty, "\(lost.prefix(5))")
            #expect(drained?.contains("clients.left=0") == true, "\(process.log)")
        }

        /// `slotgate --check-config FILE` prints every directive with its effective value (the
        /// file's where it sets one, the default otherwise, sizes in bytes) and exits 0; a file with
        /// a bad value prints the file, the line and the reason, and exits 1.
        @Test func checkConfigPrintsEveryDirectiveOrTheReason() throws {
            let directory = NSTemporaryDirectory() + "slotgate-ops-check-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let good = directory + "/good.conf"
            try """
            # a comment
            port 7001
            bind 0.0.0.0
            cluster 10.0.0.5:6379 10.0.0.6:6379
            threads 3
            log-level debug
            failover-hold-max-memory 1mb
            request-timeout 2500
            read-from prefer-replica
            slowlog-log-slower-than 500
            admin-port 7779
            """.write(toFile: good, atomically: true, encoding: .utf8)
            let clock = ContinuousClock()
            let start = clock.now
            let (status, output, log) = try SlotgateProcess.run(["--check-config", good], name: "check-good")
            let took = clock.now - start
            let lines = output.split(whereSeparator: \.isNewline).map(String.init)
            let expected = try ProxyConfiguration(contentsOfFile: good)
            #expect(status == 0, "\(output)\(log)")
            for name in ProxyConfiguration.directiveNames {
                #expect(lines.contains("\(name) \(expected.value(of: name))"), "no '\(name) \(expected.value(of: name))' in:\n\(output)")
            }
            for line in [
                "port 7001", "bind 0.0.0.0", "cluster 10.0.0.5:6379 10.0.0.6:6379", "threads 3", "log-level debug",
                "failover-hold-max-memory 1048576", "request-timeout 2500", "read-from prefer-replica", "slowlog-log-slower-than 500",
                "admin-port 7779", "max-redirects 5", "requirepass \"\"",
            ] {
                #expect(lines.contains(line), "no '\(line)' in:\n\(output)")
            }
            #expect(lines.count == ProxyConfiguration.directiveNames.count, "\(output)")

            let bad = directory + "/bad.conf"
            try "port 7001\n\n# threads next\nthreads lots\n".write(toFile: bad, atomically: true, encoding: .utf8)
            let (badStatus, badOutput, badLog) = try SlotgateProcess.run(["--check-config", bad], name: "check-bad")
            let unknown = directory + "/unknown.conf"
            try "port 7001\nmaxmemory 1gb\n".write(toFile: unknown, atomically: true, encoding: .utf8)
            let (unknownStatus, unknownOutput, unknownLog) = try SlotgateProcess.run(["--check-config", unknown], name: "check-unknown")
            let missing = directory + "/missing.conf"
            let (missingStatus, missingOutput, missingLog) = try SlotgateProcess.run(["--check-config", missing], name: "check-missing")
            print(
                """
                Operations --check-config: good file exit \(status), \(lines.count) lines (\(ProxyConfiguration.directiveNames.count) \
                directives) in \(Self.ms(took)) ms; bad value exit \(badStatus): \(badOutput.trimmingCharacters(in: .newlines)); \
                unknown directive exit \(unknownStatus): \(unknownOutput.trimmingCharacters(in: .newlines)); missing file exit \
                \(missingStatus): \(missingOutput.trimmingCharacters(in: .newlines))
                """
            )
            #expect(badStatus == 1)
            #expect((badOutput + badLog).contains("\(bad):4: 'lots' is not a whole number from 0 to 1024"), "\(badOutput)\(badLog)")
            #expect(!(badOutput + badLog).contains("port 7001"))
            #expect(unknownStatus == 1)
            #expect((unknownOutput + unknownLog).contains("\(unknown):2: unknown directive 'maxmemory'"), "\(unknownOutput)\(unknownLog)")
            #expect(missingStatus == 1)
            #expect((missingOutput + missingLog).contains("\(missing): cannot read"), "\(missingOutput)\(missingLog)")
        }

        /// `slotgate stats --admin-port N` prints the table of a running proxy (health, slot map,
        /// latency classes, the busiest commands with their calls) and exits 0; `slotgate top
        /// --iterations 1 --interval 0.5` draws one table with ops/s and exits 0 in about half a
        /// second.
        @Test func statsAndTopReadTheAdminPort() async throws {
            try await Self.withAdminProxy { proxy, admin in
                let client = try proxy.connect()
                for index in 0..<200 { try client.append(["SET", "ops:top:\(index)", "v"]) }
                for _ in 0..<200 { #expect(try client.readReply() == .simpleString("OK")) }
                for index in 0..<100 { try client.append(["GET", "ops:top:\(index)"]) }
                for _ in 0..<100 { #expect(try client.readReply().string == "v") }

                let clock = ContinuousClock()
                let statsStart = clock.now
                let (status, output, log) = try SlotgateProcess.run(["stats", "--admin-port", "\(admin)"], name: "stats")
                let statsTook = clock.now - statsStart
                let rows = output.split(whereSeparator: \.isNewline).map(String.init)
                let setRow = rows.first { $0.hasPrefix("set ") }?.split(separator: " ")
                let getRow = rows.first { $0.hasPrefix("get ") }?.split(separator: " ")
                #expect(status == 0, "\(output)\(log)")
                #expect(rows.first?.contains("healthy") == true && rows.first?.contains("UNHEALTHY") == false, "\(output)")
                #expect(rows.contains { $0.hasPrefix("clients ") && $0.contains("slot map v") }, "\(output)")
                #expect(rows.contains { $0.hasPrefix("routed ") }, "\(output)")
                #expect(setRow.flatMap { Int($0[1]) } ?? 0 >= 200, "\(output)")
                #expect(getRow.flatMap { Int($0[1]) } ?? 0 >= 100, "\(output)")
                // Only the readiness probe's CLUSTERDOWN (before the first slot map) may show as an error.
                let errorLine = rows.first { $0.hasPrefix("errors: ") } ?? ""
                #expect(errorLine == "errors: none" || errorLine.hasPrefix("errors: CLUSTERDOWN=") && !errorLine.contains(" ERR"), "\(output)")

                let topStart = clock.now
                let (topStatus, topOutput, topLog) = try SlotgateProcess.run(
                    ["top", "--admin-port", "\(admin)", "--iterations", "1", "--interval", "0.5"],
                    name: "top"
                )
                let topTook = clock.now - topStart
                let unreachable = try SlotgateProcess.run(
                    ["stats", "--admin-port", "\(try FreePorts.findBase(count: 1, busOffset: 0))"],
                    name: "stats-down"
                )
                print(
                    """
                    Operations stats/top: stats exit \(status) in \(Self.ms(statsTook)) ms, \(rows.count) lines, set row \
                    \(setRow?.joined(separator: " ") ?? "none"), get row \(getRow?.joined(separator: " ") ?? "none"); top exit \
                    \(topStatus) in \(Self.ms(topTook)) ms; stats against a closed port exit \(unreachable.status)
                    """
                )
                #expect(topStatus == 0, "\(topOutput)\(topLog)")
                #expect(topOutput.contains("ops/s") && topOutput.contains("healthy"), "\(topOutput)")
                #expect(topTook >= .milliseconds(450) && topTook < .seconds(5))
                #expect(unreachable.status != 0)
            }
        }

        // MARK: - Helpers

        /// Runs `body` against an in-process proxy of its own in front of the suite's cluster, with
        /// its admin port on a free port (passed to `body`), and stops the proxy however it ends.
        private static func withAdminProxy(
            configure: (inout ProxyConfiguration) -> Void = { _ in },
            _ body: (ProxyUnderTest, Int) async throws -> Void
        ) async throws {
            let (cluster, _) = try liveCluster()
            let admin = try FreePorts.findBase(count: 1, busOffset: 0)
            let proxy = try await ProxyUnderTest.start(seeds: [cluster.nodes[0], cluster.nodes[1]]) {
                $0.adminPort = admin
                configure(&$0)
            }
            do {
                #expect(proxy.server.adminAddress?.port == admin)
                try await body(proxy, admin)
            } catch {
                try? await proxy.stop()
                throw error
            }
            try await proxy.stop()
        }

        /// A configuration file for the real process: client and admin ports, the suite's
        /// cluster, 2 threads, quick refreshes; callers add their own lines.
        private static func configurationText(port: Int, admin: Int, cluster: LocalCluster) -> String {
            """
            # written by OperationsTests
            port \(port)
            bind 127.0.0.1
            cluster \(cluster.nodes[0]) \(cluster.nodes[1])
            threads 2
            admin-port \(admin)
            topology-refresh-min-interval 50

            """
        }

        /// Waits (at most 15 s) until the real process answers `SET` on `port` with OK, i.e. listens
        /// and holds a slot map; throws with its log if it exits or does not get there.
        private static func waitUntilServing(_ process: SlotgateProcess, port: Int) throws {
            let clock = ContinuousClock()
            let start = clock.now
            while clock.now - start < .seconds(15) {
                guard process.isRunning else { throw HarnessError("slotgate exited early:\n\(process.output)\(process.log)") }
                if let client = try? BlockingRedisConnection(host: "127.0.0.1", port: port, timeout: .seconds(2)),
                    (try? client.command(["SET", "ops:probe", "1"])) == .simpleString("OK")
                {
                    return
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
            throw HarnessError("slotgate did not serve on port \(port) within 15 s:\n\(process.log)")
        }

        /// The value `PROXY CONFIG GET name` reports.
        private static func configValue(_ admin: BlockingRedisConnection, _ name: String) throws -> String? {
            let reply = try admin.command(["PROXY", "CONFIG", "GET", name]).array ?? []
            return reply.count == 2 ? reply[1].string : nil
        }

        /// Whole milliseconds of a duration, for the printed figures.
        static func ms(_ duration: Duration) -> Int {
            Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
        }
    }
}

/// Client threads, each with its own connection to a proxy, running `INCR` on a counter key of
/// its own one command at a time, recording the last value acknowledged; a thread ends when its
/// connection closes (or on ``stop()``).
///
/// Unchecked `Sendable`: all mutable state is guarded by `condition`.
private final class CounterClients: @unchecked Sendable {
    private let port: Int
    private let keys: [String]
    private let condition = NSCondition()
    private var stopRequested = false
    private var running = 0
    private var acknowledged: [Int]
    private var acknowledgedCount: [Int]
    private var errors: [String] = []
    private var endReasons: [String] = []

    init(port: Int, keys: [String]) {
        self.port = port
        self.keys = keys
        self.acknowledged = Array(repeating: 0, count: keys.count)
        self.acknowledgedCount = Array(repeating: 0, count: keys.count)
    }

    func start() {
        for index in self.keys.indices {
            self.condition.withLock { self.running += 1 }
            Thread { self.run(index) }.start()
        }
    }

    /// The last INCR value each client got back (0 before the first).
    var lastAcknowledged: [Int] { self.condition.withLock { self.acknowledged } }

    var totalAcknowledged: Int { self.condition.withLock { self.acknowledgedCount.reduce(0, +) } }

    /// Error replies (the proxy answered, with an error).
    var errorReplies: [String] { self.condition.withLock { self.errors } }

    /// Why each ended client ended, distinct.
    var endings: Set<String> { self.condition.withLock { Set(self.endReasons) } }

    /// Waits until every client has had `count` INCRs acknowledged.
    func waitUntilEach(acknowledged count: Int, timeout: Duration) throws {
        let deadline = Date(timeIntervalSinceNow: Double(timeout.components.seconds))
        try self.condition.withLock {
            while self.acknowledgedCount.contains(where: { $0 < count }) {
                guard self.condition.wait(until: deadline) else {
                    throw HarnessError(
                        "clients acknowledged \(self.acknowledgedCount.min() ?? 0) INCRs at least, not \(count); errors \(self.errors.prefix(3)), endings \(self.endReasons.prefix(3))"
                    )
                }
            }
        }
    }

    /// Waits until every thread has ended by itself; whether they all did within `timeout`.
    func waitUntilAllEnded(timeout: Duration) -> Bool {
        let deadline = Date(timeIntervalSinceNow: Double(timeout.components.seconds))
        return self.condition.withLock {
            while self.running > 0 {
                guard self.condition.wait(until: deadline) else { return false }
            }
            return true
        }
    }

    /// Asks every thread to stop and waits (at most 15 s, a reply's timeout and more); safe to call
    /// again.
    func stop() {
        self.condition.withLock { self.stopRequested = true }
        _ = self.waitUntilAllEnded(timeout: .seconds(15))
    }

    private func run(_ index: Int) {
        var reason = "stopped"
        defer {
            self.condition.withLock {
                self.running -= 1
                self.endReasons.append(reason)
                self.condition.broadcast()
            }
        }
        let connection: BlockingRedisConnection
        do {
            connection = try BlockingRedisConnection(host: "127.0.0.1", port: self.port, timeout: .seconds(10))
        } catch {
            reason = "connect failed: \(error)"
            return
        }
        while !self.condition.withLock({ self.stopRequested }) {
            let reply: RESPValue
            do {
                reply = try connection.command(["INCR", self.keys[index]])
            } catch {
                reason = "connection ended: \(error)"
                return
            }
            self.condition.withLock {
                if case .integer(let value) = reply {
                    self.acknowledged[index] = value
                    self.acknowledgedCount[index] += 1
                } else {
                    self.errors.append("INCR \(self.keys[index]): \(reply)")
                }
                self.condition.broadcast()
            }
        }
    }
}
