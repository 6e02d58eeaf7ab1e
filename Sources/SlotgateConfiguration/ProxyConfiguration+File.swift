//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import FoundationEssentials
import Logging
import SlotgateACL
import SlotgateCluster

#if canImport(Glibc)
    import Glibc
#endif

extension ProxyConfiguration {
    /// Reads a redis.conf-style file over the defaults: one `directive value…` per line, `#` comments.
    public init(contentsOfFile path: String) throws(ConfigurationError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError("\(path): cannot read: \(Self.readFailureReason(error))")
        }
        try self.init(parsing: text, fileName: path)
    }

    /// Why a file could not be read, in the system's words ("No such file or directory").
    private static func readFailureReason(_ error: any Error) -> String {
        guard let cause = (error as? CocoaError)?.underlying as? POSIXError else { return "\(error)" }
        return String(cString: strerror(cause.code.rawValue))
    }

    /// Parses configuration text over the defaults; errors name `fileName` and the line.
    public init(parsing text: String, fileName: String) throws(ConfigurationError) {
        self.init()
        var seedsFromFile: [NodeAddress] = []
        var usersFromFile: [ACLUser] = []
        for (number, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = rawLine.drop(while: \.isWhitespace)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            do {
                let words = try Self.words(of: line)
                if words[0].lowercased() == "cluster" {
                    seedsFromFile += try Self.parseSeeds(Array(words.dropFirst()))
                } else if words[0].lowercased() == "user" {
                    usersFromFile.append(try Self.parseUser(Array(words.dropFirst())))
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
        self.users = usersFromFile
        if self.aclMode == .passthrough && (!self.users.isEmpty || !self.requirePassword.isEmpty) {
            throw ConfigurationError(
                "\(fileName): acl-mode passthrough has the cluster check users and passwords; it takes no user lines and no requirepass"
            )
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

    /// The words of a line, split at spaces and tabs; a word in double quotes may hold spaces
    /// (`tls-protocols "TLSv1.2 TLSv1.3"`), and `""` is the empty word, as in redis.conf.
    private static func words(of line: Substring) throws(ConfigurationError) -> [String] {
        var words: [String] = []
        var rest = line[...]
        while true {
            rest = rest.drop { $0 == " " || $0 == "\t" }
            guard let first = rest.first else { return words }
            if first == "\"" {
                let body = rest.dropFirst()
                guard let end = body.firstIndex(of: "\"") else { throw ConfigurationError("unbalanced quotes") }
                rest = body[body.index(after: end)...]
                guard rest.first.map({ $0 == " " || $0 == "\t" }) ?? true else {
                    throw ConfigurationError("closing quote must be followed by a space")
                }
                words.append(String(body[..<end]))
            } else {
                let word = rest.prefix { $0 != " " && $0 != "\t" }
                words.append(String(word))
                rest = rest.dropFirst(word.count)
            }
        }
    }

    /// A `user` line's words after `user`, read by the ACL module's own parser.
    static func parseUser(_ words: [String]) throws(ConfigurationError) -> ACLUser {
        do throws(ACLError) {
            return try ACLUser(definition: words)
        } catch {
            throw ConfigurationError(error.description)
        }
    }

    /// `tls-protocols`: `TLSv1.2`, `TLSv1.3` or both, separated by spaces.
    static func tlsProtocols(_ text: String) throws(ConfigurationError) -> [String] {
        let names = text.split(separator: " ").map(String.init)
        guard !names.isEmpty, names.allSatisfy(ClientTLSSettings.knownProtocols.contains) else {
            throw ConfigurationError("'\(text)' is not a list of TLS versions (\(ClientTLSSettings.knownProtocols.joined(separator: ", ")))")
        }
        return ClientTLSSettings.knownProtocols.filter(names.contains)
    }

    /// Parses `host:port` seed addresses.
    public static func parseSeeds(_ arguments: [String]) throws(ConfigurationError) -> [NodeAddress] {
        guard !arguments.isEmpty else { throw ConfigurationError("'cluster' needs at least one host:port") }
        return try arguments.map { (text: String) throws(ConfigurationError) -> NodeAddress in
            guard let address = NodeAddress(text) else { throw ConfigurationError("'\(text)' is not host:port") }
            return address
        }
    }

    /// The single-valued directives, by name, and how each sets its field.
    private static let directives: [String: @Sendable (inout ProxyConfiguration, String) throws -> Void] = Dictionary(
        uniqueKeysWithValues: Self.allDirectives.compactMap { directive in directive.set.map { (directive.name, $0) } }
    )

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

    static func yesNo(_ text: String) throws(ConfigurationError) -> Bool {
        switch text.lowercased() {
        case "yes": return true
        case "no": return false
        default: throw ConfigurationError("'\(text)' is not yes or no")
        }
    }

    static func readPolicy(_ text: String) throws(ConfigurationError) -> ReadPolicy {
        try choice(text, describedAs: "read-from policy")
    }

    /// One of the raw values of `Choice`, in any letter case.
    static func choice<Choice: RawRepresentable & CaseIterable>(
        _ text: String,
        describedAs description: String
    ) throws(ConfigurationError) -> Choice where Choice.RawValue == String {
        guard let value = Choice(rawValue: text.lowercased()) else {
            throw ConfigurationError("'\(text)' is not a \(description) (\(Choice.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return value
    }

    static func logLevel(_ text: String) throws(ConfigurationError) -> Logger.Level {
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            let names = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationError("'\(text)' is not a log level (\(names))")
        }
        return level
    }
}
