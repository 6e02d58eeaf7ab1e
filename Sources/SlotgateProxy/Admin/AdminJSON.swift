//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import FoundationEssentials
import SlotgateCluster
import SlotgateConfiguration

/// `GET /stats` and `GET /cluster`: an ``AdminReport`` as JSON, for scripts and for
/// `slotgate stats` / `slotgate top`.
enum AdminJSON {
    /// Counters, latencies, slow log, hot keys, uptime and a configuration summary.
    static func stats(_ report: AdminReport) -> Data {
        let stats = report.stats
        let object: JSONValue = [
            "version": .string(SlotgateInfo.version),
            "uptime_seconds": .double(report.uptimeSeconds),
            "healthy": .bool(report.unhealthyReason == nil),
            "unhealthy_reason": .string(report.unhealthyReason ?? ""),
            "clients": [
                "connected": .integer(stats.clientsConnected), "accepted": .integer(stats.clientsAccepted),
                "rejected": .integer(stats.clientsRejected),
            ],
            "bytes": ["received": .integer(stats.bytesIn), "sent": .integer(stats.bytesOut)],
            "commands": .object(stats.commands.mapValues { ["calls": .integer($0.calls), "errors": .integer($0.errors)] }),
            "client_errors": .object(stats.clientErrors.mapValues(JSONValue.integer)),
            "node_events": .object(Dictionary(uniqueKeysWithValues: NodeEvent.allCases.map { ($0.rawValue, .integer(stats.events[$0] ?? 0)) })),
            "latency_us": .object(Dictionary(uniqueKeysWithValues: stats.latency.map { ($0.key.rawValue, Self.percentiles($0.value)) })),
            "nodes": .object(
                Dictionary(
                    uniqueKeysWithValues: stats.nodes.map { address, node in
                        (
                            address.description,
                            [
                                "reachable": .bool(!node.unreachable), "links": .integer(node.links), "in_flight": .integer(node.inFlight),
                                "requests": .integer(node.requests), "latency_us": Self.percentiles(node.latency),
                            ] as JSONValue
                        )
                    }
                )
            ),
            "held_requests": .integer(stats.heldRequests),
            "exclusive_links": .integer(report.exclusiveLinksInUse),
            "auth_failures": .integer(report.auth.failures),
            "auth_refused": .integer(report.auth.refusals),
            "slot_map": [
                "version": .integer(report.view?.version ?? 0), "slots_assigned": .integer(report.view?.slotMap.assignedSlotCount ?? 0),
                "masters": .integer(report.view?.slotMap.shards.count ?? 0), "refreshes": .integer(report.monitor.refreshes),
                "failed_refreshes": .integer(report.monitor.failedRefreshes),
            ],
            "slowlog": .array(stats.slowLog.map(Self.slowLogEntry)),
            "hotkeys": .array(
                stats.hottestKeys(report.configuration.hotKeys).map { ["key": .string($0.key), "sampled_requests": .integer(Int($0.requests))] }
            ),
            "config": .object(
                Dictionary(
                    uniqueKeysWithValues: ProxyConfiguration.directiveNames.filter { !$0.contains("pass") }.map {
                        ($0, .string(report.configuration.value(of: $0)))
                    }
                )
            ),
        ]
        return Self.encode(object)
    }

    /// Slot ranges with their master and replicas, and the state of the links to each node.
    static func cluster(_ report: AdminReport) -> Data {
        guard let view = report.view else { return Self.encode(["slot_map_version": .integer(0), "ranges": .array([])]) }
        let map = view.slotMap
        let ranges: [JSONValue] = map.slotRanges.compactMap { range in
            range.shard.map { index in
                [
                    "start": .integer(range.slots.lowerBound), "end": .integer(range.slots.upperBound),
                    "master": .string(map.shards[index].master.description),
                    "replicas": .array(map.shards[index].replicas.map { .string($0.description) }),
                ]
            }
        }
        let nodes = Dictionary(
            uniqueKeysWithValues: map.allNodes.map { address in
                let node = report.stats.nodes[address]
                return (
                    address.description,
                    [
                        "reachable": .bool(node?.unreachable != true), "links": .integer(node?.links ?? 0),
                        "in_flight": .integer(node?.inFlight ?? 0),
                    ] as JSONValue
                )
            }
        )
        return Self.encode(["slot_map_version": .integer(view.version), "ranges": .array(ranges), "nodes": .object(nodes)])
    }

    private static func slowLogEntry(_ entry: SlowLog.Entry) -> JSONValue {
        [
            "id": .integer(entry.id), "timestamp": .integer(entry.timestamp), "duration_us": .integer(Int(entry.durationMicroseconds)),
            "command": .string(entry.command), "first_key": .string(entry.firstKey), "node": .string(entry.node?.description ?? ""),
            "client": .string(entry.client),
        ]
    }

    /// `count` and `p50`, `p90`, `p99`, `p99.9` in microseconds.
    private static func percentiles(_ histogram: LatencyHistogram) -> JSONValue {
        var values: [String: JSONValue] = ["count": .integer(Int(clamping: histogram.count))]
        for (_, percentile) in LatencyHistogram.reportedPercentiles {
            let name = percentile == percentile.rounded() ? String(Int(percentile)) : String(percentile)
            values["p" + name] = .integer(Int(clamping: histogram.microseconds(atPercentile: percentile)))
        }
        return .object(values)
    }

    private static func encode(_ value: JSONValue) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }
}
