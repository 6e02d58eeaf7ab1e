//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateRESP

extension CommandTable {
    /// Builds the table from a node's `COMMAND` reply. Each entry is
    /// `[name, arity, flags, first, last, step, acl categories, tips, key specs, subcommands]`;
    /// Redis 6 stops after the first six or seven fields and gets specs made from first/last/step.
    ///
    /// - Returns: `nil` when the reply is not a `COMMAND` reply.
    public init?(commandReply reply: RESPValue) {
        guard let entries = reply.array else { return nil }
        let specs = entries.compactMap(CommandSpec.init(commandEntry:))
        guard !specs.isEmpty else { return nil }
        self.init(specs)
    }
}

extension CommandSpec {
    /// Reads one entry of a `COMMAND` reply.
    init?(commandEntry entry: RESPValue) {
        guard let fields = entry.array, fields.count >= 6, let name = fields[0].string?.lowercased(), let arity = fields[1].int,
            let first = fields[3].int, let last = fields[4].int, let step = fields[5].int
        else { return nil }
        let flags = Set((fields[2].array ?? []).compactMap { $0.string?.lowercased() })
        // ACL categories, "@read", "@string"…, kept as "read", "string".
        let categoryNames = fields.count > 6 ? (fields[6].array ?? []).compactMap(\.string) : []
        let categories = Set(categoryNames.map { String($0.lowercased().trimmingPrefix("@")) })

        var keySpecs: [KeySpec] = []
        if fields.count > 8, let described = fields[8].array, !described.isEmpty {
            keySpecs = described.map(KeySpec.init(commandKeySpec:))
        } else if first > 0 {
            // Redis 6 says nothing of what a command does with its keys but whether it only reads.
            let access: KeySpec.Access = flags.contains("readonly") && !flags.contains("write") ? .read : [.read, .write]
            keySpecs = [
                KeySpec(
                    beginSearch: .index(first),
                    findKeys: .range(lastKey: last >= 0 ? last - first : last, step: step, limit: 0),
                    access: access
                )
            ]
        }

        var subcommands: [String: CommandSpec] = [:]
        if fields.count > 9, let listed = fields[9].array {
            for sub in listed.compactMap(CommandSpec.init(commandEntry:)) {
                let shortName = sub.name.split(separator: "|").last.map(String.init) ?? sub.name
                subcommands[shortName] = sub
            }
        }
        self.init(name: name, arity: arity, flags: flags, keySpecs: keySpecs, subcommands: subcommands, categories: categories)
    }
}

extension KeySpec {
    /// Reads one key spec (a RESP2 flat map with `flags`, `begin_search` and `find_keys`); parts it
    /// cannot read become `.unknown` (and a spec without flags reads and writes), so the command's
    /// other specs still work.
    init(commandKeySpec value: RESPValue) {
        let fields = Dictionary(value.keyValuePairs ?? [], uniquingKeysWith: { first, _ in first })
        let (beginType, beginSpec) = Self.typedSpec(fields["begin_search"])
        let (findType, findSpec) = Self.typedSpec(fields["find_keys"])

        let beginSearch: BeginSearch
        switch beginType {
        case "index":
            beginSearch = beginSpec["index"]?.int.map(BeginSearch.index) ?? .unknown
        case "keyword":
            if let keyword = beginSpec["keyword"]?.string, let startFrom = beginSpec["startfrom"]?.int {
                beginSearch = .keyword(keyword, startFrom: startFrom)
            } else {
                beginSearch = .unknown
            }
        default:
            beginSearch = .unknown
        }

        let findKeys: FindKeys
        switch findType {
        case "range":
            if let lastKey = findSpec["lastkey"]?.int, let step = findSpec["keystep"]?.int, let limit = findSpec["limit"]?.int {
                findKeys = .range(lastKey: lastKey, step: step, limit: limit)
            } else {
                findKeys = .unknown
            }
        case "keynum":
            if let countIndex = findSpec["keynumidx"]?.int, let firstKey = findSpec["firstkey"]?.int, let step = findSpec["keystep"]?.int {
                findKeys = .keyCount(keyCountIndex: countIndex, firstKey: firstKey, step: step)
            } else {
                findKeys = .unknown
            }
        default:
            findKeys = .unknown
        }
        let flags = fields["flags"]?.array.map { Set($0.compactMap { $0.string?.lowercased() }) }
        self.init(
            beginSearch: beginSearch,
            findKeys: findKeys,
            isFlaggedIncomplete: flags?.contains("incomplete") ?? false,
            access: flags.map(Self.access(flags:)) ?? [.read, .write],
            isFlaggedVariable: flags?.contains("variable_flags") ?? false,
            isFlaggedNotKey: flags?.contains("not_key") ?? false
        )
    }

    /// What Redis's ACL check requires of a key found by a spec with these flags.
    private static func access(flags: Set<String>) -> Access {
        var access: Access = []
        if flags.contains("access") {
            access.insert(.read)
        }
        if !flags.isDisjoint(with: ["insert", "update", "delete"]) {
            access.insert(.write)
        }
        return access
    }

    /// Splits `{type: …, spec: {…}}` into its type name and its spec fields.
    private static func typedSpec(_ value: RESPValue?) -> (String, [String: RESPValue]) {
        let fields = Dictionary(value?.keyValuePairs ?? [], uniquingKeysWith: { first, _ in first })
        let spec = Dictionary(fields["spec"]?.keyValuePairs ?? [], uniquingKeysWith: { first, _ in first })
        return (fields["type"]?.string ?? "unknown", spec)
    }
}
