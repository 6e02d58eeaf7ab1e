//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore

/// A glob pattern matched the way Redis 7.0 matches ACL key and channel patterns: a port of its
/// `stringmatchlen` (case-sensitive), quirks included, so a pattern admits exactly the keys and
/// channels a Redis node would admit.
///
/// `*` matches any run of bytes but, as in Redis 7.0, not an empty subject; `?` one byte;
/// `[abc]`, `[a-z]` (ends in either order), `[^…]` one byte of a set; `\` makes the next byte
/// literal. Bytes are compared as C's signed `char`, which matters to ranges past 0x7F. An
/// unterminated `[` set ends with the pattern. Once the pattern after a `*` has failed at every
/// later position, no earlier `*` is retried (Redis's guard against exponential backtracking).
struct GlobPattern: Sendable, Hashable {
    let bytes: [UInt8]

    init(_ bytes: some Sequence<UInt8>) {
        self.bytes = Array(bytes)
    }

    func matches(_ subject: ByteBuffer) -> Bool {
        subject.withUnsafeReadableBytes(self.matches)
    }

    func matches(_ subject: UnsafeRawBufferPointer) -> Bool {
        self.bytes.withUnsafeBytes { pattern in
            var skipLongerMatches = false
            return Self.match(pattern, from: 0, subject, from: 0, &skipLongerMatches)
        }
    }

    private static let star = UInt8(ascii: "*")
    private static let backslash = UInt8(ascii: "\\")

    private static func match(
        _ pattern: UnsafeRawBufferPointer,
        from patternStart: Int,
        _ subject: UnsafeRawBufferPointer,
        from subjectStart: Int,
        _ skipLongerMatches: inout Bool
    ) -> Bool {
        var p = patternStart
        var s = subjectStart
        while p < pattern.count && s < subject.count {
            switch pattern[p] {
            case Self.star:
                while p + 1 < pattern.count && pattern[p + 1] == Self.star {
                    p += 1
                }
                if p + 1 == pattern.count {
                    return true
                }
                while s < subject.count {
                    if Self.match(pattern, from: p + 1, subject, from: s, &skipLongerMatches) {
                        return true
                    }
                    if skipLongerMatches {
                        return false
                    }
                    s += 1
                }
                skipLongerMatches = true
                return false
            case UInt8(ascii: "?"):
                s += 1
            case UInt8(ascii: "["):
                guard Self.matchSet(pattern, &p, subject[s]) else { return false }
                s += 1
            default:
                if pattern[p] == Self.backslash && pattern.count - p >= 2 {
                    p += 1
                }
                guard pattern[p] == subject[s] else { return false }
                s += 1
            }
            p += 1
            if s == subject.count {
                while p < pattern.count && pattern[p] == Self.star {
                    p += 1
                }
            }
        }
        return p == pattern.count && s == subject.count
    }

    /// Matches `byte` against the `[…]` set opening at `p`, leaving `p` on the set's last byte.
    private static func matchSet(_ pattern: UnsafeRawBufferPointer, _ p: inout Int, _ byte: UInt8) -> Bool {
        p += 1
        let negated = p < pattern.count && pattern[p] == UInt8(ascii: "^")
        if negated {
            p += 1
        }
        var matched = false
        while true {
            if pattern.count - p >= 2 && pattern[p] == Self.backslash {
                p += 1
                matched = matched || pattern[p] == byte
            } else if p < pattern.count && pattern[p] == UInt8(ascii: "]") {
                break
            } else if p >= pattern.count {
                p -= 1
                break
            } else if pattern.count - p >= 3 && pattern[p + 1] == UInt8(ascii: "-") {
                let ends = (Int8(bitPattern: pattern[p]), Int8(bitPattern: pattern[p + 2]))
                let range = min(ends.0, ends.1)...max(ends.0, ends.1)
                p += 2
                matched = matched || range.contains(Int8(bitPattern: byte))
            } else {
                matched = matched || pattern[p] == byte
            }
            p += 1
        }
        return matched != negated
    }
}
