//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import FoundationEssentials

/// Builds the `INFO` a client of Slotgate sees: the first master's report, with the `# Keyspace`
/// section summed over every master (so `db0:keys=` counts the whole cluster) and, for a full
/// report, a `# Slotgate` section about the proxy itself in front.
enum InfoMerge {
    /// - Parameters:
    ///   - reports: each master's `INFO` text.
    ///   - proxySection: the `# Slotgate` section's lines, or `nil` when the client asked for other sections.
    static func merge(_ reports: [String], proxySection: [String]?) -> String {
        var sections = reports[0].components(separatedBy: "\r\n\r\n").filter { !$0.isEmpty }
        let keyspace = self.summedKeyspace(reports)
        if let index = sections.firstIndex(where: { $0.hasPrefix("# Keyspace") }) {
            sections[index] = keyspace
        }
        if let proxySection {
            sections.insert((["# Slotgate"] + proxySection).joined(separator: "\r\n"), at: 0)
        }
        return sections.map { $0.hasSuffix("\r\n") ? $0 : $0 + "\r\n" }.joined(separator: "\r\n")
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
