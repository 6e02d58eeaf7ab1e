//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import FoundationEssentials
import Testing

@testable import SlotgateProxy

/// Protects the JSON of the admin port: `/stats` and `/cluster` are written from ``JSONValue``
/// and `slotgate stats` reads them back into it, so each kind of value must survive the trip,
/// and the text must stay the sorted, indented JSON scripts already read.
@Suite("JSONValue")
struct JSONValueTests {
    private static let sample: JSONValue = [
        "count": .integer(1902), "uptime": .double(12), "ratio": .double(0.25), "healthy": .bool(true), "reason": .string("a/b \"c\""),
        "none": .null, "ranges": .array([["start": .integer(0)], .array([])]), "empty": .object([:]),
    ]

    @Test("every kind of value comes back as written")
    func roundTrip() throws {
        let data = try JSONEncoder().encode(Self.sample)
        let decoded = try JSONDecoder().decode(JSONValue.self, from: data)
        // A whole double is written as a whole number, so it reads back as an integer.
        var expected = Self.sample.members ?? [:]
        expected["uptime"] = .integer(12)
        #expect(decoded == .object(expected))
    }

    @Test("the text has sorted keys, indentation and whole numbers without a fraction")
    func text() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let value: JSONValue = ["b": .integer(2), "a": ["uptime": .double(3), "p99.9": .integer(7)]]
        let text = String(decoding: try encoder.encode(value), as: UTF8.self)
        #expect(text == "{\n  \"a\" : {\n    \"p99.9\" : 7,\n    \"uptime\" : 3\n  },\n  \"b\" : 2\n}")
    }

    @Test("numbers read as numbers, other values as text for the terminal")
    func reading() {
        #expect(Self.sample["count"]?.number == 1902)
        #expect(Self.sample["ratio"]?.number == 0.25)
        #expect(Self.sample["reason"]?.number == nil)
        #expect(Self.sample["reason"]?.description == "a/b \"c\"")
        #expect(Self.sample["count"]?.description == "1902")
        #expect(Self.sample["missing"] == nil)
        #expect(Self.sample["count"]?["count"] == nil)
    }
}
