//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

extension ACLUser {
    /// The user as `ACL LIST` shows it, in Redis 7.0's order: `user alice on #<sha256> ~app:* &*
    /// -@all +@read`. It is also a configuration line that makes the same user. The command rules
    /// are the ones given, shortened (see ``ACLCommandRules``), where Redis rebuilds them from its
    /// bitmap; the commands allowed are the same.
    public var aclListEntry: String {
        var words = ["user", self.name, self.isEnabled ? "on" : "off"]
        if self.isPasswordless {
            words.append("nopass")
        }
        words += self.passwords.map { "#" + $0.hex }
        if let keys = self.keys.description {
            words.append(keys)
        }
        words.append(self.channels.description)
        words.append(self.commands.description)
        return words.joined(separator: " ")
    }
}
