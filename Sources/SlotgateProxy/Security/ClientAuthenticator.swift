//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateACL

/// Checks the user and password clients give with `AUTH` or `HELLO … AUTH`.
///
/// Without `user` lines it works as Redis's default user does with `requirepass`: the user name,
/// when given, must be `default`. With them (`acl-mode proxy`), every user is checked as Redis's
/// ACL checks it (``ACLUser``), and the default user is the one the file defines or, if it
/// defines none, Redis's own: every permission, with `requirepass` as its password. Under
/// `acl-mode passthrough` it checks nothing itself: the session has the cluster check a password
/// first (see `ClientSession+Passthrough`), and only then lets it be taken here.
struct ClientAuthenticator: Sendable {
    /// `nil` when no password is required (`requirepass`).
    let password: [UInt8]?
    /// The ACL users by name, the default user included; empty without `user` lines.
    let users: [String: ACLUser]
    /// `acl-mode passthrough`: the cluster checks passwords, and its users' rules apply.
    let checkedByCluster: Bool

    /// Under `acl-mode passthrough` (`checkedByCluster`) `requirePassword` and `users` are not
    /// used: the file refuses them, and a reload cannot leave the mode while it runs.
    init(requirePassword: String, users: [ACLUser] = [], checkedByCluster: Bool = false) {
        self.checkedByCluster = checkedByCluster
        self.password = requirePassword.isEmpty || checkedByCluster ? nil : Array(requirePassword.utf8)
        guard !users.isEmpty && !checkedByCluster else {
            self.users = [:]
            return
        }
        var byName = Dictionary(users.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        if byName["default"] == nil {
            let password = requirePassword.isEmpty ? "nopass" : ">" + requirePassword
            byName["default"] = try? ACLUser(definition: ["default", "on", password, "~*", "&*", "+@all"])
        }
        self.users = byName
    }

    /// Whether commands are checked against the client's user (`acl-mode proxy`).
    var enforcesACL: Bool { !self.users.isEmpty }

    /// Whether a new connection is signed in as the default user without a password. Under
    /// `acl-mode passthrough` the cluster knows; the router learns it with the slot map.
    var startsAuthenticated: Bool {
        guard !self.checkedByCluster else { return false }
        guard let user = self.users["default"] else { return self.password == nil }
        return user.isEnabled && user.isPasswordless
    }

    /// What a password check concluded.
    enum Outcome: Equatable {
        case accepted(user: String)
        case rejected
        case noPasswordConfigured
    }

    /// Checks `user` (the default user when `nil`) and `password`; under `acl-mode passthrough`
    /// accepts them, as the cluster accepted them already.
    func check(user: ByteBuffer?, password given: ByteBuffer) -> Outcome {
        let name = user.map { String(buffer: $0) } ?? "default"
        if self.checkedByCluster {
            return .accepted(user: name)
        }
        if self.enforcesACL {
            return self.users[name]?.accepts(password: given) == true ? .accepted(user: name) : .rejected
        }
        guard let password = self.password else { return .noPasswordConfigured }
        let passwordMatches = Self.constantTimeEqual(Array(given.readableBytesView), password)
        return name == "default" && passwordMatches ? .accepted(user: name) : .rejected
    }

    /// Compares in time that depends on the lengths only, not on where the bytes differ.
    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }
}
