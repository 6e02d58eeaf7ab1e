//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import Testing

@testable import SlotgateCluster

/// Protects the key → slot function: CRC16/XMODEM modulo 16384 with the hash-tag rule of the
/// Redis Cluster specification. A wrong slot sends every command to the wrong node.
@Suite("HashSlot")
struct HashSlotTests {
    @Test("CRC16 is the XMODEM variant: \"123456789\" checks to 0x31C3")
    func crc16CheckValue() {
        let crc = Array("123456789".utf8).withUnsafeBytes { CRC16.xmodem($0) }
        #expect(crc == 0x31C3)
        #expect([UInt8]().withUnsafeBytes { CRC16.xmodem($0) } == 0)
    }

    @Test("the slot of \"foo\" is 12182")
    func foo() {
        #expect(HashSlot(key: "foo").rawValue == 12182)
    }

    /// Collected from a throwaway redis-server 7.0.15 in cluster mode on a loopback port
    /// (`CLUSTER KEYSLOT <key>` for each key), then stopped.
    static let redisKeySlots: [(key: String, slot: Int)] = [
        ("", 0),
        ("a", 15495),
        ("foo", 12182),
        ("bar", 5061),
        ("hello", 866),
        ("123456789", 12739),
        ("user:1000", 1649),
        ("{user1000}.following", 3443),
        ("{user1000}.followers", 3443),
        ("user1000", 3443),
        ("foo{}{bar}", 8363),
        ("foo{{bar}}zap", 4015),
        ("{bar", 4015),
        ("foo{bar}{zap}", 5061),
        ("{}", 15257),
        ("{", 4092),
        ("}", 12090),
        ("a{b}c", 3300),
        ("{a}", 15495),
        ("key:{tag}:x", 8338),
        ("über", 15496),
        ("mykey", 14687),
        ("session:abcdef0123456789", 13863),
        ("12345678901234567890123456789012345678901234567890", 9431),
        ("{}foo", 9500),
        ("foo{", 7673),
        ("x{}", 2608),
    ]

    @Test("slots agree with redis-server's CLUSTER KEYSLOT", arguments: HashSlotTests.redisKeySlots)
    func redisVectors(key: String, slot: Int) {
        #expect(HashSlot(key: key).rawValue == UInt16(slot))
    }

    /// Binary keys, from the same server (`CLUSTER KEYSLOT "\x00\xff\x7f"` and so on).
    @Test("binary keys hash by their bytes")
    func binaryKeys() {
        #expect(HashSlot(key: [0x00, 0xFF, 0x7F]).rawValue == 3207)
        #expect(HashSlot(key: [UInt8]("a\r\nb".utf8)).rawValue == 3608)
        #expect(HashSlot(key: [0x7B, 0x00, 0x7D, 0x7A, 0x7A]).rawValue == 0)
    }

    @Test("keys sharing a hash tag share a slot: {user1000}.following and {user1000}.followers")
    func hashTagsShareSlot() {
        let following = HashSlot(key: "{user1000}.following")
        #expect(following == HashSlot(key: "{user1000}.followers"))
        #expect(following == HashSlot(key: "user1000"))
        #expect(following != HashSlot(key: "user1000.following"))
    }

    @Test("an empty tag {} hashes the whole key: foo{}{bar}")
    func emptyTag() {
        #expect(HashSlot(key: "foo{}{bar}") != HashSlot(key: "bar"))
        #expect(HashSlot(key: "foo{}{bar}") == Self.crcSlot("foo{}{bar}"))
    }

    @Test("only the first { counts, up to the next }: foo{{bar}}zap hashes {bar")
    func nestedBraces() {
        #expect(HashSlot(key: "foo{{bar}}zap") == HashSlot(key: "{bar"))
        #expect(HashSlot(key: "foo{{bar}}zap") == Self.crcSlot("{bar"))
    }

    @Test("the first tag wins: foo{bar}{zap} hashes bar")
    func firstTagWins() {
        #expect(HashSlot(key: "foo{bar}{zap}") == HashSlot(key: "bar"))
        #expect(HashSlot(key: "foo{bar}{zap}") != HashSlot(key: "zap"))
    }

    @Test("an unclosed { hashes the whole key")
    func unclosedBrace() {
        #expect(HashSlot(key: "foo{bar") == Self.crcSlot("foo{bar"))
        #expect(HashSlot(key: "}foo{") == Self.crcSlot("}foo{"))
    }

    @Test("string, byte and raw-buffer keys give the same slot")
    func keyFormsAgree() {
        for key in ["foo", "{user1000}.following", "über", ""] {
            let bytes = Array(key.utf8)
            let fromString = HashSlot(key: key)
            #expect(HashSlot(key: bytes) == fromString)
            #expect(HashSlot(key: bytes[...]) == fromString)
            #expect(bytes.withUnsafeBytes { HashSlot(key: $0) } == fromString)
            #expect(ByteBuffer(string: key).withUnsafeReadableBytes { HashSlot(key: $0) } == fromString)
        }
    }

    @Test("every slot is below 16384")
    func slotRange() {
        for index in 0..<2000 {
            #expect(HashSlot(key: "key:\(index)").rawValue < 16384)
        }
    }

    @Test("rawValue accepts 0…16383 only")
    func rawValues() {
        #expect(HashSlot(rawValue: 0)?.rawValue == 0)
        #expect(HashSlot(rawValue: 16383)?.rawValue == 16383)
        #expect(HashSlot(rawValue: 16384) == nil)
        #expect(HashSlot(rawValue: -1) == nil)
        #expect(HashSlot.count == 16384)
    }

    @Test("slots order by number and print as it")
    func orderAndDescription() throws {
        let low = try #require(HashSlot(rawValue: 5))
        let high = try #require(HashSlot(rawValue: 12182))
        #expect(low < high)
        #expect(!(high < low))
        #expect(high.description == "12182")
        #expect(HashSlot(key: "foo") == high)
    }

    /// The slot from CRC16 of all of `key`, bypassing the hash-tag rule.
    static func crcSlot(_ key: String) -> HashSlot {
        let crc = Array(key.utf8).withUnsafeBytes { CRC16.xmodem($0) }
        return HashSlot(rawValue: Int(crc) % 16384)!
    }
}
