//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// A decoded RESP2 reply, for the few places that must understand a reply rather than forward it:
/// topology discovery, the command table, and tests.
public enum RESPValue: Hashable, Sendable {
    case simpleString(String)
    case error(String)
    case integer(Int)
    case bulkString([UInt8])
    case null
    case array([RESPValue])

    /// The text of a simple string, bulk string or error; `nil` for other kinds.
    public var string: String? {
        switch self {
        case .simpleString(let text), .error(let text): return text
        case .bulkString(let bytes): return String(decoding: bytes, as: UTF8.self)
        default: return nil
        }
    }

    /// The value of an integer reply, or of a string holding a decimal integer.
    public var int: Int? {
        switch self {
        case .integer(let value): return value
        case .bulkString, .simpleString: return self.string.flatMap { Int($0) }
        default: return nil
        }
    }

    /// The elements of an array reply; `nil` for other kinds.
    public var array: [RESPValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// Reads a flat `[key, value, key, value…]` array (a RESP2 map) into pairs; `nil` if it is not one.
    public var keyValuePairs: [(key: String, value: RESPValue)]? {
        guard let elements = self.array, elements.count % 2 == 0 else { return nil }
        return stride(from: 0, to: elements.count, by: 2).compactMap { index in
            elements[index].string.map { ($0, elements[index + 1]) }
        }
    }
}
