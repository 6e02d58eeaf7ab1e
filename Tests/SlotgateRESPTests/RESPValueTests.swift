//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import SlotgateRESP
import Testing

/// Protects the accessors topology discovery and the command table read replies through.
@Suite("RESPValue")
struct RESPValueTests {
    @Test("string reads simple strings, errors and bulk strings only")
    func string() {
        #expect(RESPValue.simpleString("OK").string == "OK")
        #expect(RESPValue.error("ERR x").string == "ERR x")
        #expect(RESPValue.bulkString([UInt8]("127.0.0.1")).string == "127.0.0.1")
        #expect(RESPValue.integer(1).string == nil)
        #expect(RESPValue.null.string == nil)
        #expect(RESPValue.array([]).string == nil)
    }

    @Test("int reads integers and decimal strings")
    func int() {
        #expect(RESPValue.integer(-7).int == -7)
        #expect(RESPValue.bulkString([UInt8]("30001")).int == 30001)
        #expect(RESPValue.simpleString("12").int == 12)
        #expect(RESPValue.bulkString([UInt8]("12a")).int == nil)
        #expect(RESPValue.error("1").int == nil)
        #expect(RESPValue.null.int == nil)
    }

    @Test("array reads arrays only")
    func array() {
        #expect(RESPValue.array([.integer(1), .null]).array == [.integer(1), .null])
        #expect(RESPValue.array([]).array == [])
        #expect(RESPValue.null.array == nil)
        #expect(RESPValue.bulkString([]).array == nil)
    }

    @Test("keyValuePairs reads a flat RESP2 map and rejects odd arrays")
    func keyValuePairs() throws {
        let map = RESPValue.array([.bulkString([UInt8]("type")), .bulkString([UInt8]("index")), .simpleString("spec"), .array([])])
        let pairs = try #require(map.keyValuePairs)
        #expect(pairs.map(\.key) == ["type", "spec"])
        #expect(pairs.map(\.value) == [.bulkString([UInt8]("index")), .array([])])
        #expect(RESPValue.array([.integer(1)]).keyValuePairs == nil)
        #expect(RESPValue.integer(1).keyValuePairs == nil)
        #expect(RESPValue.array([]).keyValuePairs?.isEmpty == true)
    }
}
