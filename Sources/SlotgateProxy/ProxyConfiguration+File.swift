//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import Logging
import SlotgateCluster

/// A configuration file or value was rejected; the description names the file, line and reason.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

extension ProxyConfiguration {
    /// Reads a redis.conf-style file over the defaults: one `directive value…` per line, `#` comments.
    public init(contentsOfFile path: String) throws(ConfigurationError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError("\(path): cannot read: \(error.localizedDescription)")
        }
        try self.init(parsing: text, fileName: path)
    }

    /// Parses configuration text over the defaults; errors name `fileName` and the line.
    public init(parsing text: String, fileName: String) throws(ConfigurationError) {
        self.init()
        var seedsFromFile: [NodeAddress] = []
        for (number, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            do {
                if words[0].lowercased() == "cluster" {
                    seedsFromFile += try Self.parseSeeds(Array(words.dropFirst()))
                } else {
                    try self.set(words[0], Array(words.dropFirst()))
                }
            } catch {
                throw ConfigurationError("\(fileName):\(number + 1): \(error.description)")
            }
        }
        if !seedsFromFile.isEmpty {
            self.seeds = seedsFromFile
        }
    }

    /// Sets one directive from its arguments, as a file line or a runtime change would.
    public mutating func set(_ directive: String, _ arguments: [String]) throws(ConfigurationError) {
        let name = directive.lowercased()
        guard let apply = Self.directives[name] else {
            throw ConfigurationError("unknown directive '\(directive)'")
        }
        guard arguments.count == 1 else {
            throw ConfigurationError("'\(name)' takes one value, got \(arguments.count)")
        }
        do {
            try apply(&self, arguments[0])
        } catch {
            throw error as? ConfigurationError ?? ConfigurationError("\(error)")
        }
    }

    /// Parses `host:port` seed addresses.
    public static func parseSeeds(_ arguments: [String]) throws(ConfigurationError) -> [NodeAddress] {
        guard !arguments.isEmpty else { throw ConfigurationError("'cluster' needs at least one host:port") }
        return try arguments.map { (text: String) throws(ConfigurationError) -> NodeAddress in
            guard let address = NodeAddress(text) else { throw ConfigurationError("'\(text)' is not host:port") }
            return address
        }
    }

    /// Every single-valued directive and how it sets its field.
    private static let directives: [String: @Sendable (inout ProxyConfiguration, String) throws -> Void] = [
        "bind": { $0.bind = $1 },
        "port": { $0.port = try integer($1, in: 0...65535) },
        "threads": { $0.threads = try integer($1, in: 0...1024) },
        "log-level": { $0.logLevel = try logLevel($1) },
        "topology-refresh-interval": { $0.topologyRefreshInterval = .milliseconds(try integer($1, in: 100...86_400_000)) },
        "topology-refresh-min-interval": { $0.topologyMinimumRefreshInterval = .milliseconds(try integer($1, in: 0...60_000)) },
        "connect-timeout": { $0.connectTimeout = .milliseconds(try integer($1, in: 1...600_000)) },
        "max-redirects": { $0.maxRedirects = try integer($1, in: 0...100) },
        "cluster-announce-ip": { $0.announceHost = $1 == "\"\"" ? "" : $1 },
        "cluster-announce-port": { $0.announcePort = try integer($1, in: 0...65535) },
        "requirepass": { $0.requirePassword = $1 == "\"\"" ? "" : $1 },
        "cluster-user": { $0.clusterUser = $1 == "\"\"" ? "" : $1 },
        "cluster-password": { $0.clusterPassword = $1 == "\"\"" ? "" : $1 },
        "max-exclusive-links-per-client": { $0.maxExclusiveLinksPerClient = try integer($1, in: 3...1024) },
        "max-exclusive-links": { $0.maxExclusiveLinks = try integer($1, in: 1...1_000_000) },
        "failover-hold": { $0.failoverHold = $1.lowercased() == "auto" ? nil : .milliseconds(try integer($1, in: 0...3_600_000)) },
        "failover-hold-max-memory": { $0.failoverHoldMaxMemory = try byteSize($1, in: 0...(Int(Int32.max) * 2)) },
        "request-timeout": { $0.requestTimeout = .milliseconds(try integer($1, in: 0...86_400_000)) },
        "admin-port": { $0.adminPort = try integer($1, in: 0...65535) },
        "admin-bind": { $0.adminBind = $1 },
        "admin-password": { $0.adminPassword = $1 == "\"\"" ? "" : $1 },
        "slowlog-log-slower-than": { $0.slowlogSlowerThan = try integer($1, in: -1...3_600_000_000) },
        "slowlog-max-len": { $0.slowlogMaxLength = try integer($1, in: 0...100_000) },
        "hotkeys": { $0.hotKeys = try integer($1, in: 0...1000) },
        "shutdown-timeout": { $0.shutdownTimeout = .milliseconds(try integer($1, in: 0...3_600_000)) },
        "maxclients": { $0.maxClients = try integer($1, in: 1...1_000_000) },
        "timeout": { $0.idleTimeout = try integer($1, in: 0...31_536_000) },
        "client-output-buffer-limit": { $0.clientOutputBufferLimit = try byteSize($1, in: 0...(Int(Int32.max) * 2)) },
        "client-query-buffer-limit": { $0.clientQueryBufferLimit = try byteSize($1, in: 1024 * 1024...(Int(Int32.max) * 2)) },
        "max-in-flight-per-node": { $0.maxInFlightPerNode = try integer($1, in: 0...10_000_000) },
        "read-from": { $0.readPolicy = try readPolicy($1) },
        "replica-max-lag": { $0.replicaMaxLag = try integer($1, in: 0...86_400) },
        "proto-max-bulk-len": { $0.protoMaxBulkLength = try byteSize($1, in: 1024...(Int(Int32.max) * 2)) },
    ]

    static func integer(_ text: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError("'\(text)' is not a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// Parses a size the way redis.conf does: `1k` = 1000, `1kb` = 1024, and so on up to `gb`.
    static func byteSize(_ text: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        let units: [(suffix: String, factor: Int)] = [
            ("kb", 1024), ("mb", 1024 * 1024), ("gb", 1024 * 1024 * 1024), ("k", 1000), ("m", 1_000_000), ("g", 1_000_000_000), ("b", 1),
        ]
        let lowered = text.lowercased()
        let unit = units.first { lowered.hasSuffix($0.suffix) }
        guard let number = Int(lowered.dropLast(unit?.suffix.count ?? 0)) else {
            throw ConfigurationError("'\(text)' is not a size (bytes, or with k/kb/m/mb/g/gb)")
        }
        let (value, overflow) = number.multipliedReportingOverflow(by: unit?.factor ?? 1)
        guard !overflow, range.contains(value) else {
            throw ConfigurationError("'\(text)' is outside \(range.lowerBound)..\(range.upperBound) bytes")
        }
        return value
    }

    static func readPolicy(_ text: String) throws(ConfigurationError) -> ReadPolicy {
        guard let policy = ReadPolicy(rawValue: text.lowercased()) else {
            throw ConfigurationError("'\(text)' is not a read-from policy (\(ReadPolicy.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return policy
    }

    static func logLevel(_ text: String) throws(ConfigurationError) -> Logger.Level {
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            let names = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationError("'\(text)' is not a log level (\(names))")
        }
        return level
    }
}
