//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// Where a command's keys are, as Redis 7 describes it in the `key_specs` of its `COMMAND` reply:
/// first a rule for where the search begins, then a rule for which arguments from there are keys.
///
/// Reading key positions from the server, rather than from a list compiled into the proxy, is
/// what lets new commands and module commands route without a Slotgate release.
public struct KeySpec: Sendable, Hashable {
    /// Where the first key (or the key count) is found.
    public enum BeginSearch: Sendable, Hashable {
        /// At a fixed argument index.
        case index(Int)
        /// Just after the first argument equal to `keyword` (case-insensitive), searching from
        /// `startFrom` (negative: from the end, backwards).
        case keyword(String, startFrom: Int)
        /// The server gives no rule; keys can't be found without asking it (`COMMAND GETKEYS`).
        case unknown
    }

    /// Which arguments, from the beginning found, are keys.
    public enum FindKeys: Sendable, Hashable {
        /// Keys from the beginning up to `lastKey` (relative; negative counts from the end), every
        /// `step`; with `limit` > 0 the range is divided by it (Redis's rule for `lastKey == -1`).
        case range(lastKey: Int, step: Int, limit: Int)
        /// The argument at `keyCountIndex` (relative) says how many keys follow, starting at
        /// `firstKey` (relative), every `step`.
        case keyCount(keyCountIndex: Int, firstKey: Int, step: Int)
        /// The server gives no rule.
        case unknown
    }

    /// What the command does with the keys a spec finds, as ACL key permissions (`%R~`, `%W~`)
    /// see it: Redis requires read permission for a spec flagged `access` and write permission
    /// for one flagged `insert`, `update` or `delete`; a spec with neither (`EXISTS`, `TYPE`) needs
    /// no particular permission, only a matching pattern.
    public struct Access: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8

        public init(rawValue: UInt8) {
            self.rawValue = rawValue
        }

        public static let read = Access(rawValue: 1)
        public static let write = Access(rawValue: 2)
    }

    public var beginSearch: BeginSearch
    public var findKeys: FindKeys
    /// Redis flags the spec `incomplete`: it may miss keys or name non-keys (`MIGRATE … KEYS`).
    public var isFlaggedIncomplete: Bool
    /// What the command does with these keys; both when the server does not say.
    public var access: Access
    /// Redis flags the spec `variable_flags`: `access` is the widest case, and the arguments may
    /// narrow it (`SET` without `GET` only writes), as `COMMAND GETKEYSANDFLAGS` tells.
    public var isFlaggedVariable: Bool
    /// Redis flags the spec `not_key`: what it finds routes by its slot but is no key (the shard
    /// channel of `SPUBLISH`), so ACL key patterns do not apply to it.
    public var isFlaggedNotKey: Bool

    public init(
        beginSearch: BeginSearch,
        findKeys: FindKeys,
        isFlaggedIncomplete: Bool = false,
        access: Access = [.read, .write],
        isFlaggedVariable: Bool = false,
        isFlaggedNotKey: Bool = false
    ) {
        self.beginSearch = beginSearch
        self.findKeys = findKeys
        self.isFlaggedIncomplete = isFlaggedIncomplete
        self.access = access
        self.isFlaggedVariable = isFlaggedVariable
        self.isFlaggedNotKey = isFlaggedNotKey
    }

    /// Whether the proxy can find this spec's keys itself; when not, it asks the cluster
    /// (`COMMAND GETKEYS`), as Redis itself falls back to the command's own key finder.
    public var isComplete: Bool {
        self.beginSearch != .unknown && self.findKeys != .unknown && !self.isFlaggedIncomplete
    }

    /// Whether an argument equals a key spec's keyword, ignoring case.
    public static func matches(_ argument: UnsafeRawBufferPointer, keyword: String) -> Bool {
        argument.count == keyword.utf8.count && zip(argument, keyword.utf8).allSatisfy { $0 | 0x20 == $1 | 0x20 }
    }

    /// Calls `visit` with the index of every key this spec finds among `argumentCount` arguments,
    /// following Redis's own `getKeysUsingKeySpecs`. Indexes past the end are not visited: the
    /// server reports such a command's syntax error itself.
    ///
    /// - Parameters:
    ///   - argumentCount: how many arguments the command has, its name included.
    ///   - argumentEquals: whether the argument at an index equals a keyword, ignoring case.
    ///   - integerArgument: the argument at an index read as an integer.
    ///   - visit: receives each key index.
    public func visitKeyIndexes(
        argumentCount: Int,
        argumentEquals: (Int, String) -> Bool,
        integerArgument: (Int) -> Int?,
        _ visit: (Int) -> Void
    ) {
        // 1. Find where the keys begin.
        var first: Int
        switch self.beginSearch {
        case .index(let index):
            first = index
        case .keyword(let keyword, let startFrom):
            let start = startFrom > 0 ? startFrom : argumentCount + startFrom
            let end = startFrom > 0 ? argumentCount - 1 : 1
            var found: Int? = nil
            var index = start
            while index != end && index >= 1 && index < argumentCount {
                if argumentEquals(index, keyword) {
                    found = index + 1
                    break
                }
                index += start <= end ? 1 : -1
            }
            guard let found else { return }
            first = found
        case .unknown:
            return
        }
        guard first < argumentCount else { return }

        // 2. Find the last key and the step between keys.
        let last: Int
        let step: Int
        switch self.findKeys {
        case .range(let lastKey, let keyStep, let limit):
            step = keyStep
            if lastKey >= 0 {
                last = first + lastKey
            } else if limit == 0 {
                last = argumentCount + lastKey
            } else {
                last = first + ((argumentCount - first) / limit + lastKey)
            }
        case .keyCount(let keyCountIndex, let firstKey, let keyStep):
            step = keyStep
            guard keyCountIndex < argumentCount - first, let count = integerArgument(first + keyCountIndex), count >= 0 else { return }
            first += firstKey
            last = first + count - 1
        case .unknown:
            return
        }

        // 3. Visit the keys.
        guard step > 0 else { return }
        var index = first
        while index <= last && index < argumentCount {
            visit(index)
            index += step
        }
    }
}
