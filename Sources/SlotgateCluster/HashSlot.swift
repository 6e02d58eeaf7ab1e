//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// One of the 16384 hash slots a Redis Cluster divides its keys into.
///
/// A key's slot is CRC16 (XMODEM) of the key modulo 16384, where only the part between the first
/// `{` and the next `}` is hashed when that part is not empty (the hash tag), exactly as the Redis
/// Cluster specification says. Keys that must live together share a tag: `{user1000}.following`.
public struct HashSlot: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// How many slots a cluster has.
    public static let count = 16384

    public let rawValue: UInt16

    public init?(rawValue: Int) {
        guard (0..<Self.count).contains(rawValue) else { return nil }
        self.rawValue = UInt16(rawValue)
    }

    /// The slot of a key given as raw bytes.
    public init(key: UnsafeRawBufferPointer) {
        let hashed = Self.hashedPart(of: key)
        self.rawValue = CRC16.xmodem(hashed) & UInt16(Self.count - 1)
    }

    /// The slot of a key given as bytes.
    public init(key: some Collection<UInt8>) {
        self = Array(key).withUnsafeBytes { HashSlot(key: $0) }
    }

    /// The slot of a key given as a string (its UTF-8 bytes).
    public init(key: String) {
        self.init(key: Array(key.utf8))
    }

    public static func < (lhs: HashSlot, rhs: HashSlot) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { String(self.rawValue) }

    /// The bytes that decide the slot: the hash tag if the key has a non-empty one, else the whole key.
    private static func hashedPart(of key: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var open = 0
        while open < key.count && key[open] != UInt8(ascii: "{") { open &+= 1 }
        guard open < key.count else { return key }
        var close = open &+ 1
        while close < key.count && key[close] != UInt8(ascii: "}") { close &+= 1 }
        guard close < key.count, close > open &+ 1 else { return key }
        return UnsafeRawBufferPointer(rebasing: key[(open &+ 1)..<close])
    }
}

/// CRC16 with the XMODEM parameters (polynomial 0x1021, initial value 0), the checksum Redis
/// Cluster hashes keys with.
///
/// Two bytes per step: the CRC is linear, so the effect of the first byte through both steps
/// (`pairTable`) and that of the second (`table`) can be looked up at once and combined, which
/// halves the chain of dependent table loads a key costs.
enum CRC16 {
    /// One byte's step, derived from the polynomial once.
    private static let table: [UInt16] = (0..<256).map { byte in
        var crc = UInt16(byte) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }

    /// A byte's effect carried through a second step: `(low(T[x]) << 8) ^ T[high(T[x])]`.
    private static let pairTable: [UInt16] = table.map { entry in (entry << 8) ^ table[Int(entry >> 8)] }

    static func xmodem(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        self.table.withUnsafeBufferPointer { table in
            self.pairTable.withUnsafeBufferPointer { pairTable in
                var crc: UInt16 = 0
                var index = 0
                while index &+ 1 < bytes.count {
                    let high = UInt8(truncatingIfNeeded: crc >> 8) ^ bytes[index]
                    let low = UInt8(truncatingIfNeeded: crc) ^ bytes[index &+ 1]
                    crc = pairTable[Int(high)] ^ table[Int(low)]
                    index &+= 2
                }
                if index < bytes.count {
                    crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ bytes[index])]
                }
                return crc
            }
        }
    }
}
