//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore

/// Checks the password clients give with `AUTH` or `HELLO … AUTH` against `requirepass`, the way
/// Redis's default user works: the user name, when given, must be `default`.
struct ClientAuthenticator: Sendable {
    /// `nil` when no password is required.
    let password: [UInt8]?

    init(requirePassword: String) {
        self.password = requirePassword.isEmpty ? nil : Array(requirePassword.utf8)
    }

    /// What a password check concluded.
    enum Outcome {
        case accepted
        case rejected
        case noPasswordConfigured
    }

    func check(user: ByteBuffer?, password given: ByteBuffer) -> Outcome {
        guard let password = self.password else { return .noPasswordConfigured }
        let userMatches = user.map { String(buffer: $0) == "default" } ?? true
        let passwordMatches = Self.constantTimeEqual(Array(given.readableBytesView), password)
        return userMatches && passwordMatches ? .accepted : .rejected
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
