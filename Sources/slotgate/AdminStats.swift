//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import ArgumentParser
import FoundationEssentials
import NIOCore
import NIOHTTP1
import SlotgateProxy

/// Reads a running proxy's `GET /stats` from its admin port and lays it out for a terminal:
/// the table `slotgate stats` prints once and `slotgate top` redraws.
struct AdminStats {
    let json: JSONValue

    /// Fetches `/stats` from `host:port`, with HTTP basic auth when `password` is given.
    static func fetch(host: String, port: Int, password: String?) async throws -> AdminStats {
        guard (0...65535).contains(port) else { throw ValidationError("bad admin address \(host):\(port)") }
        let authorization = password.map { "Basic " + Data("admin:\($0)".utf8).base64EncodedString() }
        let response = try await AdminHTTPClient.get(host: host, port: port, path: "/stats", authorization: authorization, timeout: .seconds(5))
        let body = Data(response.body.readableBytesView)
        guard response.status == .ok, let json = try? JSONDecoder().decode(JSONValue.self, from: body), json.members != nil else {
            throw ValidationError("the admin port at \(host):\(port) did not return stats (\(String(decoding: body.prefix(200), as: UTF8.self)))")
        }
        return AdminStats(json: json)
    }

    private func number(_ path: String...) -> Double {
        path.reduce(self.json as JSONValue?) { $0?[$1] }?.number ?? 0
    }

    /// Calls per command name.
    var calls: [String: Double] {
        (self.json["commands"]?.members ?? [:]).mapValues { $0["calls"]?.number ?? 0 }
    }

    /// The table: a header with health and totals, latencies by command class, then the busiest
    /// commands — with ops/s when `previous` (taken `interval` seconds earlier) is given.
    func table(comparedWith previous: AdminStats?, interval: Double, rows: Int = 15) -> String {
        var lines = [
            "slotgate \(self.json["version"]?.description ?? "?")  up \(Int(self.number("uptime_seconds")))s  "
                + (self.json["healthy"] == .bool(true) ? "healthy" : "UNHEALTHY: \(self.json["unhealthy_reason"]?.description ?? "")"),
            "clients \(Int(self.number("clients", "connected")))  slot map v\(Int(self.number("slot_map", "version")))  "
                + "held \(Int(self.number("held_requests")))  exclusive links \(Int(self.number("exclusive_links")))",
            "",
            Self.row(["class", "count", "p50 µs", "p99 µs", "p99.9 µs"]),
        ]
        for (name, figures) in (self.json["latency_us"]?.members ?? [:]).sorted(by: { $0.key < $1.key }) {
            lines.append(Self.row([name] + ["count", "p50", "p99", "p99.9"].map { figures[$0]?.description ?? "0" }))
        }
        lines += ["", Self.row(["command", "calls", "errors", previous == nil ? "" : "ops/s"])]
        let commands = self.json["commands"]?.members ?? [:]
        let before = previous?.calls ?? [:]
        let busiest = commands.keys.sorted { (self.calls[$0] ?? 0) - (before[$0] ?? 0) > (self.calls[$1] ?? 0) - (before[$1] ?? 0) }
        for name in busiest.prefix(rows) {
            let rate = previous == nil ? "" : String(Int(((self.calls[name] ?? 0) - (before[name] ?? 0)) / max(interval, 0.001)))
            lines.append(Self.row([name, commands[name]?["calls"]?.description ?? "0", commands[name]?["errors"]?.description ?? "0", rate]))
        }
        let errors = (self.json["client_errors"]?.members ?? [:]).map { "\($0.key)=\($0.value)" }.sorted()
        lines += ["", "errors: " + (errors.isEmpty ? "none" : errors.joined(separator: " "))]
        return lines.joined(separator: "\n")
    }

    private static func row(_ cells: [String]) -> String {
        cells.enumerated().map { index, cell in
            index == 0
                ? cell.prefix(16) + String(repeating: " ", count: max(0, 16 - cell.count))
                : String(repeating: " ", count: max(0, 11 - cell.count)) + cell
        }.joined()
    }
}

/// Where the admin port is, for `slotgate stats` and `slotgate top`.
struct AdminAddressOptions: ParsableArguments {
    @Option(name: .customLong("admin-host"), help: "Admin port host (default 127.0.0.1).")
    var host = "127.0.0.1"

    @Option(name: .customLong("admin-port"), help: "Admin port (default 7778).")
    var port = 7778

    @Option(name: .customLong("admin-password"), help: "The admin-password, if one is set.")
    var password: String?
}

/// `slotgate stats`: one table of a running proxy's figures.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Print a running proxy's figures from its admin port.")

    @OptionGroup var admin: AdminAddressOptions

    func run() async throws {
        let stats = try await AdminStats.fetch(host: self.admin.host, port: self.admin.port, password: self.admin.password)
        print(stats.table(comparedWith: nil, interval: 0))
    }
}

/// `slotgate top`: the same table, redrawn every interval with ops/s per command.
struct TopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "top", abstract: "Watch a running proxy: ops/s, latencies and errors.")

    @OptionGroup var admin: AdminAddressOptions

    @Option(help: "Seconds between redraws.")
    var interval = 1.0

    @Option(help: "Redraws before exiting; 0 runs until interrupted.")
    var iterations = 0

    func run() async throws {
        var previous = try await AdminStats.fetch(host: self.admin.host, port: self.admin.port, password: self.admin.password)
        var drawn = 0
        while self.iterations == 0 || drawn < self.iterations {
            try await Task.sleep(for: .milliseconds(Int(self.interval * 1000)))
            let current = try await AdminStats.fetch(host: self.admin.host, port: self.admin.port, password: self.admin.password)
            print("\u{1B}[H\u{1B}[2J" + current.table(comparedWith: previous, interval: self.interval))
            previous = current
            drawn += 1
        }
    }
}
