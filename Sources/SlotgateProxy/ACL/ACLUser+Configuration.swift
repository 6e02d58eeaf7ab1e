//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

extension ACLUser {
    /// A user from a configuration line `user alice on >secret ~app:* -@all +@read`, as in
    /// redis.conf: the word `user` (any case), the user's name, then its rules, applied in order
    /// to a new user. Words may be quoted as elsewhere in the configuration.
    public init(configurationLine line: Substring) throws(ConfigurationError) {
        let words = try ProxyConfiguration.words(of: line)
        guard words.first?.lowercased() == "user" else {
            throw ConfigurationError("an ACL line should start with the 'user' keyword followed by the user name")
        }
        try self.init(definition: Array(words.dropFirst()))
    }

    /// A user from the words after `user`: its name, then its rules.
    public init(definition words: [String]) throws(ConfigurationError) {
        guard let name = words.first else {
            throw ConfigurationError("an ACL line should start with the 'user' keyword followed by the user name")
        }
        guard !Self.hasSpaces(name.utf8) else {
            throw ConfigurationError("Usernames can't contain spaces or null characters")
        }
        self.init(name: name)
        try self.apply(rules: words.dropFirst())
    }
}
