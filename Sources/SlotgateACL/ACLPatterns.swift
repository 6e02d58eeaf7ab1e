//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster

/// The keys a user may touch: every key (`allkeys`, `~*`), or those matching its patterns, each
/// pattern for reading (`%R~`), writing (`%W~`) or both (`~`, `%RW~`).
struct ACLKeyPatterns: Sendable, Equatable {
    struct Entry: Sendable, Equatable {
        let pattern: GlobPattern
        var access: KeySpec.Access
    }

    private(set) var allowsAll = false
    private(set) var entries: [Entry] = []

    /// `allkeys` (`true`) or `resetkeys` (`false`): the patterns are forgotten.
    mutating func setAll(allowed: Bool) {
        self.allowsAll = allowed
        self.entries = []
    }

    /// Adds a pattern, or widens the access of the same pattern given before, as Redis does.
    mutating func add(_ pattern: GlobPattern, access: KeySpec.Access) {
        if let index = self.entries.firstIndex(where: { $0.pattern == pattern }) {
            self.entries[index].access.formUnion(access)
        } else {
            self.entries.append(Entry(pattern: pattern, access: access))
        }
    }

    /// Whether one pattern that grants at least `access` matches `key` (Redis's `ACLSelectorCheckKey`).
    func allows(_ key: ByteBuffer, access: KeySpec.Access) -> Bool {
        self.allowsAll || self.entries.contains { $0.access.isSuperset(of: access) && $0.pattern.matches(key) }
    }

    /// As `ACL LIST` shows them: `~*`, or `~app:* %R~ro:*`, or nothing.
    var description: String? {
        if self.allowsAll {
            return "~*"
        }
        let patterns = self.entries.map { entry in
            let prefix = entry.access == .read ? "%R~" : entry.access == .write ? "%W~" : "~"
            return prefix + String(decoding: entry.pattern.bytes, as: UTF8.self)
        }
        return patterns.isEmpty ? nil : patterns.joined(separator: " ")
    }
}

/// The Pub/Sub channels a user may name: every channel (`allchannels`, `&*`), or those matching
/// its patterns (`&news.*`).
struct ACLChannelPatterns: Sendable, Equatable {
    private(set) var allowsAll = false
    private(set) var patterns: [GlobPattern] = []

    /// `allchannels` (`true`) or `resetchannels` (`false`): the patterns are forgotten.
    mutating func setAll(allowed: Bool) {
        self.allowsAll = allowed
        self.patterns = []
    }

    mutating func add(_ pattern: GlobPattern) {
        if !self.patterns.contains(pattern) {
            self.patterns.append(pattern)
        }
    }

    /// Whether a channel (`PUBLISH`, `SUBSCRIBE`) matches one of the patterns.
    func allows(channel: ByteBuffer) -> Bool {
        self.allowsAll || self.patterns.contains { $0.matches(channel) }
    }

    /// Whether a pattern a client subscribes to (`PSUBSCRIBE`) is one of the patterns, byte for
    /// byte: `&news.*` admits `PSUBSCRIBE news.*` but not `PSUBSCRIBE news.a`.
    func allows(subscribedPattern: ByteBuffer) -> Bool {
        self.allowsAll || self.patterns.contains { subscribedPattern.readableBytesView.elementsEqual($0.bytes) }
    }

    /// As `ACL LIST` shows them: `&*`, or `resetchannels` and the patterns.
    var description: String {
        self.allowsAll ? "&*" : (["resetchannels"] + self.patterns.map { "&" + String(decoding: $0.bytes, as: UTF8.self) }).joined(separator: " ")
    }
}
