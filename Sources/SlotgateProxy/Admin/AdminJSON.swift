//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import SlotgateCluster

/// `GET /stats` and `GET /cluster`: an ``AdminReport`` as JSON, for scripts and for
/// `slotgate stats` / `slotgate top`.
enum AdminJSON {
    /// Counters, latencies, slow log, hot keys, uptime and a configuration summary.
    static func stats(_ report: AdminReport) -> Data {
        let stats = report.stats
        let object: [String: Any] = [
            "version": SlotgateInfo.version,
            "uptime_seconds": report.uptimeSeconds,
            "healthy": report.unhealthyReason == nil,
            "unhealthy_reason": report.unhealthyReason ?? "",
            "clients": ["connected": stats.clientsConnected, "accepted": stats.clientsAccepted, "rejected": stats.clientsRejected],
            "bytes": ["received": stats.bytesIn, "sent": stats.bytesOut],
            "commands": stats.commands.mapValues { ["calls": $0.calls, "errors": $0.errors] },
            "client_errors": stats.clientErrors,
            "node_events": Dictionary(uniqueKeysWithValues: NodeEvent.allCases.map { ($0.rawValue, stats.events[$0] ?? 0) }),
            "latency_us": Dictionary(uniqueKeysWithValues: stats.latency.map { ($0.key.rawValue, Self.percentiles($0.value)) }),
            "nodes": Dictionary(
                uniqueKeysWithValues: stats.nodes.map { address, node in
                    (
                        address.description,
                        [
                            "reachable": !node.unreachable, "links": node.links, "in_flight": node.inFlight, "requests": node.requests,
                            "latency_us": Self.percentiles(node.latency),
                        ] as [String: Any]
                    )
                }
            ),
            "held_requests": stats.heldRequests,
            "exclusive_links": report.exclusiveLinksInUse,
            "slot_map": [
                "version": report.view?.version ?? 0, "slots_assigned": report.view?.slotMap.assignedSlotCount ?? 0,
                "masters": report.view?.slotMap.shards.count ?? 0, "refreshes": report.monitor.refreshes,
                "failed_refreshes": report.monitor.failedRefreshes,
            ],
            "slowlog": stats.slowLog.map(Self.slowLogEntry),
            "hotkeys": stats.hottestKeys(report.configuration.hotKeys).map { ["key": $0.key, "sampled_requests": Int($0.requests)] },
            "config": Dictionary(
                uniqueKeysWithValues: ProxyConfiguration.directiveNames.filter { !$0.contains("pass") }.map {
                    ($0, report.configuration.value(of: $0))
                }
            ),
        ]
        return Self.encode(object)
    }

    /// Slot ranges with their master and replicas, and the state of the links to each node.
    static func cluster(_ report: AdminReport) -> Data {
        guard let view = report.view else { return Self.encode(["slot_map_version": 0, "ranges": [Any]()]) }
        let map = view.slotMap
        let ranges: [[String: Any]] = map.slotRanges.compactMap { range in
            range.shard.map { index in
                [
                    "start": range.slots.lowerBound, "end": range.slots.upperBound, "master": map.shards[index].master.description,
                    "replicas": map.shards[index].replicas.map(\.description),
                ]
            }
        }
        let nodes = Dictionary(
            uniqueKeysWithValues: map.allNodes.map { address in
                let node = report.stats.nodes[address]
                return (address.description, ["reachable": node?.unreachable != true, "links": node?.links ?? 0, "in_flight": node?.inFlight ?? 0])
            }
        )
        return Self.encode(["slot_map_version": view.version, "ranges": ranges, "nodes": nodes])
    }

    static func slowLogEntry(_ entry: SlowLog.Entry) -> [String: Any] {
        [
            "id": entry.id, "timestamp": entry.timestamp, "duration_us": entry.durationMicroseconds, "command": entry.command,
            "first_key": entry.firstKey, "node": entry.node, "client": entry.client,
        ]
    }

    private static func percentiles(_ histogram: LatencyHistogram) -> [String: Any] {
        var values: [String: Any] = ["count": histogram.count]
        for (_, percentile) in LatencyHistogram.reportedPercentiles {
            values["p" + String(percentile).replacingOccurrences(of: ".0", with: "")] = histogram.microseconds(atPercentile: percentile)
        }
        return values
    }

    private static func encode(_ object: [String: Any]) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])) ?? Data("{}".utf8)
    }
}
