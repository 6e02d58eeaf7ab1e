//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

extension ACLUser {
    /// A user from its definition, the words after `user` on a configuration line
    /// (`alice on >secret ~app:* -@all +@read`): its name, then its rules, applied in order to a
    /// new user, as redis.conf's `user` lines are.
    ///
    /// A user reads back as `ACL LIST` writes it, one unquoted word per rule, so the name may not be
    /// empty and only a password, which reads back as its hash, may hold a space.
    public init(definition words: [String]) throws(ACLError) {
        guard let name = words.first else {
            throw ACLError("an ACL line should start with the 'user' keyword followed by the user name")
        }
        guard !name.isEmpty else {
            throw ACLError("an ACL user's name cannot be empty")
        }
        guard words.allSatisfy({ $0.hasPrefix(">") || !$0.contains(where: { $0 == " " || $0 == "\t" }) }) else {
            throw ACLError("an ACL user's name and rules cannot hold spaces (only a >password can)")
        }
        guard !Self.hasSpaces(name.utf8) else {
            throw ACLError("Usernames can't contain spaces or null characters")
        }
        self.init(name: name)
        try self.apply(rules: words.dropFirst())
    }
}
