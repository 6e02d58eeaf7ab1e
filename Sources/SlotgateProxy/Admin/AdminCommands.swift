//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import SlotgateConfiguration
import SlotgateRESP

/// The `PROXY …` commands of the admin port, answered as RESP.
enum AdminCommands {
    static func answer(_ arguments: [String], service: AdminService, on eventLoop: any EventLoop) -> EventLoopFuture<ByteBuffer> {
        let subcommand = arguments[0].lowercased()
        var reply = ByteBuffer()
        switch (subcommand, arguments.count) {
        case ("info", 1):
            return service.report(on: eventLoop).map { report in
                reply.writeRESPBulkString(Self.info(report))
                return reply
            }
        case ("cluster", 1):
            return service.report(on: eventLoop).map { report in
                reply.writeRESPBulkString(Self.cluster(report))
                return reply
            }
        case ("clients", 1):
            return service.clientLines(on: eventLoop).map { lines in
                reply.writeRESPBulkString(lines.map { $0 + "\n" }.joined())
                return reply
            }
        case ("hotkeys", 1):
            return service.report(on: eventLoop).map { report in
                let hottest = report.stats.hottestKeys(report.configuration.hotKeys)
                reply.writeRESPArrayHeader(count: hottest.count * 2)
                for (key, requests) in hottest {
                    reply.writeRESPBulkString(key)
                    reply.writeRESPInteger(Int(requests))
                }
                return reply
            }
        case ("slowlog", 2...3):
            return Self.slowLog(arguments, service: service, on: eventLoop)
        case ("config", 3) where arguments[1].lowercased() == "get":
            let configuration = service.configuration
            let names = ProxyConfiguration.directiveNames.filter { Self.matches(arguments[2].lowercased(), $0) }
            reply.writeRESPArrayHeader(count: names.count * 2)
            for name in names {
                // Passwords are never shown: anyone who can reach the admin port would learn them.
                let value = configuration.value(of: name)
                reply.writeRESPBulkString(name)
                reply.writeRESPBulkString(name.contains("pass") && value != "\"\"" ? "(set)" : value)
            }
        case ("config", 4) where arguments[1].lowercased() == "set":
            let directive = arguments[2].lowercased()
            var configuration = service.configuration
            do throws(ConfigurationError) {
                guard !ProxyConfiguration.restartOnlyDirectives.contains(directive) else {
                    throw ConfigurationError("'\(directive)' takes effect only at start; change the file and restart")
                }
                guard !directive.contains("pass") || !configuration.adminPassword.isEmpty else {
                    throw ConfigurationError("passwords can be changed here only when admin-password is set; change the file and reload")
                }
                try configuration.set(directive, [arguments[3]])
                service.apply(configuration)
                reply.writeRESPSimpleString("OK")
            } catch {
                reply.writeRESPError("ERR \(error.description)")
            }
        case ("refresh", 1):
            service.refreshTopology()
            reply.writeRESPSimpleString("OK")
        default:
            reply.writeRESPError(
                "ERR unknown PROXY subcommand or wrong number of arguments: try INFO, CLUSTER, CLIENTS, HOTKEYS, SLOWLOG GET [n]|LEN|RESET, CONFIG GET pattern, CONFIG SET directive value, REFRESH"
            )
        }
        return eventLoop.makeSucceededFuture(reply)
    }

    /// `PROXY SLOWLOG GET [count]`, `LEN` and `RESET`, shaped like Redis's `SLOWLOG`: each entry is
    /// id, unix time, µs, the command and its first key, the client, and the node.
    private static func slowLog(_ arguments: [String], service: AdminService, on eventLoop: any EventLoop) -> EventLoopFuture<ByteBuffer> {
        var reply = ByteBuffer()
        switch arguments[1].lowercased() {
        case "reset":
            return service.resetSlowLogs(on: eventLoop).map {
                reply.writeRESPSimpleString("OK")
                return reply
            }
        case "len", "get":
            let count = arguments.count == 3 ? Int(arguments[2]) ?? 10 : 10
            return service.report(on: eventLoop).map { report in
                let entries = report.stats.slowLog
                guard arguments[1].lowercased() == "get" else {
                    reply.writeRESPInteger(entries.count)
                    return reply
                }
                let shown = count < 0 ? entries[...] : entries.prefix(count)
                reply.writeRESPArrayHeader(count: shown.count)
                for entry in shown {
                    reply.writeRESPArrayHeader(count: 6)
                    reply.writeRESPInteger(entry.id)
                    reply.writeRESPInteger(entry.timestamp)
                    reply.writeRESPInteger(Int(entry.durationMicroseconds))
                    reply.writeRESPArrayHeader(count: entry.firstKey.isEmpty ? 1 : 2)
                    reply.writeRESPBulkString(entry.command)
                    if !entry.firstKey.isEmpty { reply.writeRESPBulkString(entry.firstKey) }
                    reply.writeRESPBulkString(entry.client)
                    reply.writeRESPBulkString(entry.node?.description ?? "")
                }
                return reply
            }
        default:
            reply.writeRESPError("ERR PROXY SLOWLOG takes GET [count], LEN or RESET")
            return eventLoop.makeSucceededFuture(reply)
        }
    }

    /// `PROXY INFO`: sections of `field:value` lines, as Redis's `INFO`.
    static func info(_ report: AdminReport) -> String {
        let stats = report.stats
        var lines = [
            "# Server", "slotgate_version:\(SlotgateInfo.version)", "uptime_in_seconds:\(Int(report.uptimeSeconds))",
            "", "# Clients", "connected_clients:\(stats.clientsConnected)", "total_connections_received:\(stats.clientsAccepted)",
            "rejected_connections:\(stats.clientsRejected)", "exclusive_links:\(report.exclusiveLinksInUse)",
            "", "# Stats", "total_commands_processed:\(stats.commands.values.reduce(0) { $0 + $1.calls })",
            "total_error_replies:\(stats.commands.values.reduce(0) { $0 + $1.errors })", "total_net_input_bytes:\(stats.bytesIn)",
            "total_net_output_bytes:\(stats.bytesOut)", "held_requests:\(stats.heldRequests)",
        ]
        lines += NodeEvent.allCases.map { "node_events_\($0.rawValue):\(stats.events[$0] ?? 0)" }
        lines += ["", "# Latency"]
        for (commandClass, histogram) in stats.latency.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let figures = LatencyHistogram.reportedPercentiles.map { "p\($0.label)=\(histogram.microseconds(atPercentile: $0.value))" }
            lines.append("latency_us_\(commandClass.rawValue):count=\(histogram.count)," + figures.joined(separator: ","))
        }
        lines += [
            "", "# Cluster", "healthy:\(report.unhealthyReason == nil ? 1 : 0)", "unhealthy_reason:\(report.unhealthyReason ?? "")",
            "slot_map_version:\(report.view?.version ?? 0)", "slots_assigned:\(report.view?.slotMap.assignedSlotCount ?? 0)",
            "masters:\(report.view?.slotMap.shards.count ?? 0)", "topology_refreshes:\(report.monitor.refreshes)",
        ]
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// `PROXY CLUSTER`: one line per slot range, then one per node with its link state.
    static func cluster(_ report: AdminReport) -> String {
        guard let view = report.view else { return "no slot map yet\r\n" }
        let map = view.slotMap
        var lines = map.slotRanges.map { range in
            let owner = range.shard.map {
                "master \(map.shards[$0].master) replicas \(map.shards[$0].replicas.map(\.description).joined(separator: ","))"
            }
            return "\(range.slots.lowerBound)-\(range.slots.upperBound) \(owner ?? "unassigned")"
        }
        for node in map.allNodes {
            let figures = report.stats.nodes[node]
            lines.append(
                "node \(node) \(figures?.unreachable == true ? "unreachable" : "reachable") links=\(figures?.links ?? 0) in_flight=\(figures?.inFlight ?? 0)"
            )
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// Redis-style glob for `CONFIG GET`: `*` matches anything.
    private static func matches(_ pattern: String, _ name: String) -> Bool {
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        guard parts.count > 1 else { return pattern == name }
        var rest = Substring(name)
        guard rest.hasPrefix(parts[0]) else { return false }
        rest = rest.dropFirst(parts[0].count)
        for part in parts.dropFirst().dropLast() {
            guard let range = rest.firstRange(of: part) else { return false }
            rest = rest[range.upperBound...]
        }
        return rest.hasSuffix(parts.last!)
    }
}
