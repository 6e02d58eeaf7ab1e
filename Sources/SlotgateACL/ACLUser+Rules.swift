//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateCluster

extension ACLUser {
    /// Applies rules left to right, as `ACL SETUSER` does: all of them, or, when one is refused,
    /// none (the error names it: `Error in ACL SETUSER modifier 'xyz': Syntax error`).
    public mutating func apply(rules: some Sequence<String>) throws(ACLError) {
        var staged = self
        for rule in rules {
            do throws(RuleError) {
                try staged.apply(rule: rule)
            } catch {
                throw ACLError("Error in ACL SETUSER modifier '\(rule)': \(error.rawValue)")
            }
        }
        self = staged
    }

    /// Why Redis refuses a rule, in its words (`ACLSetUserStringError`), or why Slotgate does.
    enum RuleError: String, Error {
        case syntax = "Syntax error"
        case unknownName = "Unknown command or category name in ACL"
        case patternAfterAllKeys =
            "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
        case patternAfterAllChannels =
            "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
        case noSuchPassword = "The password you are trying to remove from the user does not exist"
        case badHash = "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
        case firstArgumentOfSubcommand = "Allowing first-arg of a subcommand is not supported"
        case selectors = "Slotgate does not support ACL selectors"
        case payloadSanitising = "Slotgate does not support payload sanitising flags"
    }

    private mutating func apply(rule: String) throws(RuleError) {
        switch rule.lowercased() {
        case "": break
        case "on": self.isEnabled = true
        case "off": self.isEnabled = false
        case "nopass":
            self.isPasswordless = true
            self.passwords = []
        case "resetpass":
            self.isPasswordless = false
            self.passwords = []
        case "reset":
            self.isPasswordless = false
            self.passwords = []
            self.keys.setAll(allowed: false)
            self.channels.setAll(allowed: false)
            self.isEnabled = false
            self.commands.setAll(allowed: false)
        case "clearselectors": break  // There are none.
        case "sanitize-payload", "skip-sanitize-payload": throw .payloadSanitising
        case "allkeys", "~*": self.keys.setAll(allowed: true)
        case "resetkeys": self.keys.setAll(allowed: false)
        case "allchannels", "&*": self.channels.setAll(allowed: true)
        case "resetchannels": self.channels.setAll(allowed: false)
        case "allcommands", "+@all": self.commands.setAll(allowed: true)
        case "nocommands", "-@all": self.commands.setAll(allowed: false)
        default: try self.apply(prefixedRule: Array(rule.utf8))
        }
    }

    /// A rule that starts with a sign: `>pw`, `#hash`, `<pw`, `!hash`, `~keys`, `%R~keys`,
    /// `&channels`, `+cmd`, `-@category`…
    private mutating func apply(prefixedRule rule: [UInt8]) throws(RuleError) {
        let body = rule.dropFirst()
        switch rule[0] {
        case UInt8(ascii: ">"), UInt8(ascii: "#"):
            let hash = try Self.passwordHash(rule)
            if !self.passwords.contains(hash) {
                self.passwords.append(hash)
            }
            self.isPasswordless = false
        case UInt8(ascii: "<"), UInt8(ascii: "!"):
            let hash = try Self.passwordHash(rule)
            guard let index = self.passwords.firstIndex(of: hash) else { throw .noSuchPassword }
            self.passwords.remove(at: index)
        case UInt8(ascii: "~"), UInt8(ascii: "%"):
            guard !self.keys.allowsAll else { throw .patternAfterAllKeys }
            let (access, pattern) = try Self.keyPattern(rule)
            self.keys.add(pattern, access: access)
        case UInt8(ascii: "&"):
            guard !self.channels.allowsAll else { throw .patternAfterAllChannels }
            guard !Self.hasSpaces(body) else { throw .syntax }
            self.channels.add(GlobPattern(body))
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            try self.commands.add(Self.commandRule(allows: rule[0] == UInt8(ascii: "+"), String(decoding: body, as: UTF8.self).lowercased()))
        case UInt8(ascii: "("):
            throw .selectors
        default:
            throw .syntax
        }
    }

    /// The hash a password rule names: hashed from the clear password after `>` or `<`, read
    /// from the hexadecimal digits after `#` or `!`.
    private static func passwordHash(_ rule: [UInt8]) throws(RuleError) -> ACLPasswordHash {
        let body = rule.dropFirst()
        if rule[0] == UInt8(ascii: ">") || rule[0] == UInt8(ascii: "<") {
            return ACLPasswordHash(hashing: body)
        }
        guard let hash = ACLPasswordHash(hex: String(decoding: body, as: UTF8.self)) else { throw .badHash }
        return hash
    }

    /// `~pattern` (read and write), or `%` with `R`, `W` or both (any case, each once), then `~`
    /// and the pattern. Like Redis 7.0, `%R` alone is the empty pattern for reading.
    private static func keyPattern(_ rule: [UInt8]) throws(RuleError) -> (KeySpec.Access, GlobPattern) {
        var rest = rule.dropFirst()
        var access: KeySpec.Access = [.read, .write]
        if rule[0] == UInt8(ascii: "%") {
            access = []
            while let letter = rest.popFirst(), letter != UInt8(ascii: "~") {
                let permission: KeySpec.Access? =
                    switch letter | 0x20 {
                    case UInt8(ascii: "r"): .read
                    case UInt8(ascii: "w"): .write
                    default: nil
                    }
                guard let permission, !access.contains(permission) else { throw .syntax }
                access.insert(permission)
            }
            guard !access.isEmpty else { throw .syntax }
        }
        guard !Self.hasSpaces(rest) else { throw .syntax }
        return (access, GlobPattern(rest))
    }

    /// `+name`, `-name` (lower-cased, without the sign): a command, `container|sub`, or `@category`.
    private static func commandRule(allows: Bool, _ name: String) throws(RuleError) -> ACLCommandRules.Rule {
        if name.hasPrefix("@") {
            let category = String(name.dropFirst())
            guard ACLCategory.all.contains(category) else { throw .unknownName }
            return ACLCommandRules.Rule(allows: allows, target: .category(category))
        }
        let parts = name.split(separator: "|", omittingEmptySubsequences: false)
        guard !parts[0].isEmpty else { throw .unknownName }
        if allows && parts.count > 1 {
            // Redis splits `+a|b|c` at the last `|`: `a|b` is a subcommand, `c` its first argument.
            guard parts.count == 2 else { throw .firstArgumentOfSubcommand }
            guard !parts[1].isEmpty else { throw .syntax }
        } else if parts.count > 2 || parts.contains(where: \.isEmpty) {
            throw .unknownName
        }
        return ACLCommandRules.Rule(allows: allows, target: .command(name))
    }

    /// Whether bytes hold white space or NUL, which Redis refuses in user names and patterns.
    static func hasSpaces(_ bytes: some Sequence<UInt8>) -> Bool {
        bytes.contains { [0, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20].contains($0) }
    }
}
