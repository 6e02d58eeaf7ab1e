//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Prometheus
import SlotgateCluster

/// `GET /metrics`: an ``AdminReport`` in the Prometheus text format.
///
/// The event loops count in plain integers of their own; at each scrape the totals are written
/// into a fresh swift-prometheus registry, which does the exposition format. Latency quantiles
/// come from the HDR histograms, as gauges labelled by quantile.
enum PrometheusExposition {
    static func render(_ report: AdminReport) -> String {
        let registry = PrometheusCollectorRegistry()
        let stats = report.stats
        func gauge(_ name: String, _ help: String, _ value: Double, _ labels: [(String, String)] = []) {
            registry.makeGauge(name: name, labels: labels, help: help).set(to: value)
        }
        func counter(_ name: String, _ help: String, _ value: Int, _ labels: [(String, String)] = []) {
            registry.makeCounter(name: name, labels: labels, help: help).increment(by: Int64(value))
        }
        gauge("slotgate_uptime_seconds", "Seconds since Slotgate started.", report.uptimeSeconds)
        gauge("slotgate_clients_connected", "Client connections open now.", Double(stats.clientsConnected))
        counter("slotgate_clients_accepted_total", "Client connections accepted.", stats.clientsAccepted)
        counter("slotgate_clients_rejected_total", "Client connections refused by maxclients.", stats.clientsRejected)
        counter("slotgate_auth_failures_total", "AUTH attempts with a wrong password.", report.auth.failures)
        counter("slotgate_auth_refused_total", "AUTH attempts refused unchecked by auth-failure-limit.", report.auth.refusals)
        counter("slotgate_bytes_received_total", "Bytes of commands received from clients.", stats.bytesIn)
        counter("slotgate_bytes_sent_total", "Bytes of replies sent to clients.", stats.bytesOut)
        for (name, tally) in stats.commands {
            counter(
                "slotgate_commands_total",
                "Commands answered, by name and outcome.",
                tally.calls - tally.errors,
                [("command", name), ("outcome", "ok")]
            )
            counter("slotgate_commands_total", "Commands answered, by name and outcome.", tally.errors, [("command", name), ("outcome", "error")])
        }
        for (code, count) in stats.clientErrors {
            counter("slotgate_client_errors_total", "Error replies sent to clients, by error code.", count, [("code", code)])
        }
        for event in NodeEvent.allCases {
            counter(
                "slotgate_node_events_total",
                "Redirects, retries, lost links, timeouts, failed connects and held requests between Slotgate and the nodes.",
                stats.events[event] ?? 0,
                [("event", event.rawValue)]
            )
        }
        for (commandClass, histogram) in stats.latency {
            quantiles(
                registry,
                "slotgate_command_latency_seconds",
                "Client-seen latency by command class.",
                histogram,
                [("class", commandClass.rawValue)]
            )
        }
        for (node, figures) in stats.nodes {
            let label = [("node", node.description)]
            gauge("slotgate_node_link_up", "1 while the node is reachable, 0 while it refuses connections.", figures.unreachable ? 0 : 1, label)
            gauge("slotgate_node_links", "Shared links open to the node.", Double(figures.links), label)
            gauge("slotgate_node_in_flight", "Requests sent to the node and not answered yet.", Double(figures.inFlight), label)
            counter("slotgate_node_requests_total", "Replies received from the node.", figures.requests, label)
            quantiles(registry, "slotgate_node_latency_seconds", "Round trip to the node.", figures.latency, label)
        }
        gauge("slotgate_held_requests", "Requests waiting for an unreachable master (failover hold).", Double(stats.heldRequests))
        gauge("slotgate_exclusive_links", "Links held by single clients (transactions, blocking, pub/sub).", Double(report.exclusiveLinksInUse))
        gauge("slotgate_slot_map_version", "Version of the slot map in use.", Double(report.view?.version ?? 0))
        gauge("slotgate_slots_assigned", "Slots the slot map assigns to a master.", Double(report.view?.slotMap.assignedSlotCount ?? 0))
        counter("slotgate_topology_refreshes_total", "Topology refreshes tried.", report.monitor.refreshes)
        counter("slotgate_topology_refresh_failures_total", "Topology refreshes in which no node answered.", report.monitor.failedRefreshes)
        gauge("slotgate_healthy", "1 when a full slot map is held and every master is reachable.", report.unhealthyReason == nil ? 1 : 0)
        return registry.emitToString()
    }

    /// p50/p90/p99/p99.9 and the count of one histogram, in seconds.
    private static func quantiles(
        _ registry: PrometheusCollectorRegistry,
        _ name: String,
        _ help: String,
        _ histogram: LatencyHistogram,
        _ labels: [(String, String)]
    ) {
        for (label, percentile) in LatencyHistogram.reportedPercentiles {
            registry.makeGauge(name: name, labels: labels + [("quantile", label)], help: help)
                .set(to: Double(histogram.microseconds(atPercentile: percentile)) / 1_000_000)
        }
        registry.makeCounter(name: name + "_count", labels: labels, help: help + " (count)").increment(by: Int64(histogram.count))
    }
}
