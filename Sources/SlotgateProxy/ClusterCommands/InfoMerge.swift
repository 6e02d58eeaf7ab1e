//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import FoundationEssentials

/// Builds the `INFO` a client of Slotgate sees, speaking for the whole service section by
/// section (the README gives the same rules):
/// - `# Clients` is Slotgate's own: its clients, those blocked, those subscribed;
/// - `# Stats` and `# Memory` add up the masters' figures: see ``summed(_:of:replacing:)``; in
///   `# Stats` the connection and network counters are Slotgate's own;
/// - `# Keyspace` adds up each database's keys and expires;
/// - `# Commandstats` and `# Errorstats` add up each command's and error's counts;
/// - every other section is the first master's;
/// - a full report starts with a `# Slotgate` section about the proxy itself.
enum InfoMerge {
    /// - Parameters:
    ///   - reports: each master's `INFO` text.
    ///   - proxySection: the `# Slotgate` section's lines, or `nil` when the client asked for other sections.
    ///   - service: Slotgate's own figures.
    static func merge(_ reports: [String], proxySection: [String]?, service: ServiceFigures) -> String {
        let parsed = reports.map(Self.sections(of:))
        var merged: [String] = parsed[0].map { header, lines in
            switch header {
            case "# Clients": return Self.clients(service)
            case "# Stats": return Self.summed(header, of: parsed, replacing: Self.ownStats(service.clients))
            case "# Memory": return Self.summed(header, of: parsed, replacing: [:])
            case "# Keyspace": return Self.summedKeyspace(reports)
            case "# Commandstats", "# Errorstats": return Self.summedTallies(header, of: parsed)
            default: return ([header] + lines).joined(separator: "\r\n")
            }
        }
        if let proxySection {
            merged.insert((["# Slotgate"] + proxySection).joined(separator: "\r\n"), at: 0)
        }
        return merged.map { $0 + "\r\n" }.joined(separator: "\r\n")
    }

    /// A report's sections in order: each header (`# Stats`) and its `field:value` lines.
    private static func sections(of report: String) -> [(header: String, lines: [String])] {
        report.components(separatedBy: "\r\n\r\n").compactMap { text in
            let lines = text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            guard let header = lines.first else { return nil }
            return (header, Array(lines.dropFirst()))
        }
    }

    /// `# Clients`, with every field Redis 7.0 prints, from Slotgate's clients, and
    /// `pubsub_clients` (as Redis 7.4 prints it).
    private static func clients(_ service: ServiceFigures) -> String {
        let clients = service.clients
        return [
            "# Clients", "connected_clients:\(clients.connected)", "cluster_connections:0", "maxclients:\(service.maxClients)",
            "client_recent_max_input_buffer:\(clients.largestInputBuffer)", "client_recent_max_output_buffer:0",
            "blocked_clients:\(clients.blocked)", "tracking_clients:0", "clients_in_timeout_table:0", "pubsub_clients:\(clients.inPubSub)",
        ].joined(separator: "\r\n")
    }

    /// The `# Stats` fields Slotgate counts itself: the masters count only its links.
    private static func ownStats(_ clients: ClientFigures) -> [String: String] {
        [
            "total_connections_received": "\(clients.counters.accepted)", "rejected_connections": "\(clients.counters.rejected)",
            "total_net_input_bytes": "\(clients.counters.bytesIn)", "total_net_output_bytes": "\(clients.counters.bytesOut)",
        ]
    }

    /// The section `header` with each field of the first report merged over all of them: whole
    /// numbers and decimals are added up, except ratios and percentages (`*_ratio`, `*_perc`)
    /// and `latest_fork_usec`, which are the largest any master reports; `*_human` sizes are
    /// written again from the added-up bytes; text (policies, allocator names) is the first
    /// master's; fields in `replacing` take its values.
    private static func summed(_ header: String, of reports: [[(header: String, lines: [String])]], replacing: [String: String]) -> String {
        let fieldsByReport = reports.map { sections in
            Dictionary(
                (sections.first { $0.header == header }?.lines ?? []).compactMap(Self.field(of:)),
                uniquingKeysWith: { first, _ in first }
            )
        }
        let firstFields = (reports[0].first { $0.header == header }?.lines ?? []).compactMap(Self.field(of:))
        var values: [String: String] = [:]
        for (name, _) in firstFields {
            let texts = fieldsByReport.compactMap { $0[name] }
            let takesLargest = name.hasSuffix("_ratio") || name.hasSuffix("_perc") || Self.largestOfMasters.contains(name)
            let numbers = texts.compactMap { Int($0) }
            let decimals = texts.compactMap { Double($0) }
            if !texts.isEmpty && numbers.count == texts.count {
                values[name] = String(takesLargest ? numbers.max() ?? 0 : numbers.reduce(0, +))
            } else if !texts.isEmpty && decimals.count == texts.count {
                values[name] = Self.twoDecimals(takesLargest ? decimals.max() ?? 0 : decimals.reduce(0, +))
            } else {
                values[name] = texts.first ?? ""
            }
        }
        values.merge(replacing) { _, own in own }
        let lines = firstFields.map { name, _ in
            if name.hasSuffix("_human"), let bytes = values[String(name.dropLast("_human".count))].flatMap({ Int($0) }) {
                return "\(name):\(Self.human(bytes))"
            }
            return "\(name):\(values[name] ?? "")"
        }
        return ([header] + lines).joined(separator: "\r\n")
    }

    /// Figures that describe what every master holds alike (scripts and functions are loaded on
    /// every master), or one moment: the largest report, not the sum.
    private static let largestOfMasters: Set<String> = [
        "latest_fork_usec", "number_of_cached_scripts", "number_of_functions", "number_of_libraries",
    ]

    /// A section of `name:key=value,key=value` lines (`cmdstat_get:calls=3,usec=5,…`): every name
    /// any master reports, with its whole numbers and decimals added up, and `usec_per_call`
    /// worked out again from the sums.
    private static func summedTallies(_ header: String, of reports: [[(header: String, lines: [String])]]) -> String {
        var order: [String] = []
        var tallies: [String: [(key: String, value: Double, whole: Bool)]] = [:]
        for lines in reports.map({ sections in sections.first { $0.header == header }?.lines ?? [] }) {
            for case let (name, text)? in lines.map(Self.field(of:)) {
                let parts = text.split(separator: ",").compactMap { pair -> (key: String, value: Double, whole: Bool)? in
                    let keyValue = pair.split(separator: "=", maxSplits: 1)
                    guard keyValue.count == 2, let value = Double(keyValue[1]) else { return nil }
                    return (String(keyValue[0]), value, Int(keyValue[1]) != nil)
                }
                guard let known = tallies[name] else {
                    order.append(name)
                    tallies[name] = parts
                    continue
                }
                tallies[name] = known.map { tally in
                    (tally.key, tally.value + (parts.first { $0.key == tally.key }?.value ?? 0), tally.whole)
                }
            }
        }
        let lines = order.map { name in
            let parts = tallies[name] ?? []
            let value = { (key: String) in parts.first { $0.key == key }?.value }
            let fields = parts.map { tally -> String in
                if tally.key == "usec_per_call", let usec = value("usec"), let calls = value("calls"), calls > 0 {
                    return "usec_per_call=\(Self.twoDecimals(usec / calls))"
                }
                return "\(tally.key)=\(tally.whole && abs(tally.value) < 1e15 ? String(Int(tally.value)) : Self.twoDecimals(tally.value))"
            }
            return "\(name):\(fields.joined(separator: ","))"
        }
        return ([header] + lines).joined(separator: "\r\n")
    }

    private static func field(of line: String) -> (String, String)? {
        guard let colon = line.firstIndex(of: ":") else { return nil }
        return (String(line[..<colon]), String(line[line.index(after: colon)...]))
    }

    /// A size as Redis writes it in `*_human` fields: `512B`, `1.50K`, `2.00M`, ….
    private static func human(_ bytes: Int) -> String {
        var value = Double(bytes)
        for unit in ["B", "K", "M", "G", "T"] {
            if value < 1024 || unit == "T" {
                return unit == "B" ? "\(bytes)B" : Self.twoDecimals(value) + unit
            }
            value /= 1024
        }
        return "\(bytes)B"
    }

    private static func twoDecimals(_ value: Double) -> String {
        // Whole hundredths only while they fit an Int; a node may report `inf` or a huge ratio.
        guard value.isFinite, abs(value) < 1e15 else { return "\(value)" }
        let hundredths = Int((abs(value) * 100).rounded())
        let fraction = hundredths % 100
        return "\(value < 0 ? "-" : "")\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// `# Keyspace` with `keys` and `expires` of each database added up over every report, and
    /// `avg_ttl` the largest any master reports.
    private static func summedKeyspace(_ reports: [String]) -> String {
        var totals: [String: (keys: Int, expires: Int, averageTTL: Int)] = [:]
        for report in reports {
            for line in report.components(separatedBy: "\r\n") where line.hasPrefix("db") {
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2 else { continue }
                var fields: [String: Int] = [:]
                for field in parts[1].split(separator: ",") {
                    let pair = field.split(separator: "=")
                    if pair.count == 2, let value = Int(pair[1]) { fields[String(pair[0])] = value }
                }
                let previous = totals[String(parts[0])] ?? (0, 0, 0)
                totals[String(parts[0])] = (
                    previous.keys + (fields["keys"] ?? 0), previous.expires + (fields["expires"] ?? 0),
                    max(previous.averageTTL, fields["avg_ttl"] ?? 0)
                )
            }
        }
        let lines = totals.keys.sorted().map { database in
            let total = totals[database]!
            return "\(database):keys=\(total.keys),expires=\(total.expires),avg_ttl=\(total.averageTTL)"
        }
        return (["# Keyspace"] + lines).joined(separator: "\r\n")
    }
}
