//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Crypto
import NIOCore

/// A user's password as Redis keeps it: the SHA-256 of the password, so neither the
/// configuration (`#<hex>`) nor `ACL LIST` need hold the password itself.
struct ACLPasswordHash: Sendable, Hashable {
    /// The 32 bytes of the digest.
    let digest: [UInt8]

    /// The hash of a password given in clear (`>password`).
    init(hashing password: some Sequence<UInt8>) {
        self.digest = Array(password).withUnsafeBytes(Self.sha256)
    }

    /// A hash given as Redis writes it (`#<hex>`): exactly 64 lower-case hexadecimal digits, or `nil`.
    init?(hex: some StringProtocol) {
        let nibbles = hex.utf8.map { byte -> UInt8? in
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            default: nil
            }
        }
        guard nibbles.count == 64, nibbles.allSatisfy({ $0 != nil }) else { return nil }
        self.digest = stride(from: 0, to: 64, by: 2).map { nibbles[$0]! << 4 | nibbles[$0 + 1]! }
    }

    /// The 64 lower-case hexadecimal digits Redis shows after `#`.
    var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: self.digest.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0f)]] }, as: UTF8.self)
    }

    /// Whether `password` hashes to this digest; the digests are compared in time that does not
    /// depend on where they differ.
    func isHash(of password: ByteBuffer) -> Bool {
        let given = password.withUnsafeReadableBytes(Self.sha256)
        return zip(given, self.digest).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    private static func sha256(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(bufferPointer: bytes)
        return Array(hasher.finalize())
    }
}
