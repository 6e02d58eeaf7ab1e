//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// Finds a command name's position in a fixed list straight from the bytes a client sent,
/// ignoring ASCII case as Redis does, without making a `String` or hashing one.
///
/// A name of up to 24 bytes is packed, lower-cased, into three 64-bit words; the words are mixed
/// by multiplication into a slot of an open-addressing table at most a quarter full. A lookup is
/// a few loads and compares. Longer names are not indexed: their lookups miss, and the caller's
/// slower path finds them.
struct CommandNameIndex {
    /// A packed, lower-cased name.
    private struct Key: Equatable {
        var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var length = 0

        static func == (lhs: Key, rhs: Key) -> Bool {
            lhs.length == rhs.length && lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2
        }

        /// The key of no name, for empty table slots.
        init() {}

        /// `nil` for names longer than the key holds.
        init?(_ name: UnsafeRawBufferPointer) {
            guard name.count <= Key.capacity else { return nil }
            self.length = name.count
            var index = 0
            while index < name.count {
                var byte = name[index]
                if byte &- UInt8(ascii: "A") < 26 {
                    byte |= 0x20
                }
                let shifted = UInt64(byte) << UInt64((index & 7) &* 8)
                switch index >> 3 {
                case 0: self.words.0 |= shifted
                case 1: self.words.1 |= shifted
                default: self.words.2 |= shifted
                }
                index &+= 1
            }
        }

        static let capacity = 24

        var hash: Int {
            let mixed =
                (self.words.0 &* 0x9E37_79B9_7F4A_7C15) ^ (self.words.1 &* 0xC2B2_AE3D_27D4_EB4F) ^ (self.words.2 &* 0x1656_67B1_9E37_79F9)
                ^ UInt64(self.length)
            return Int(truncatingIfNeeded: mixed ^ (mixed >> 29))
        }
    }

    private let keys: [Key]
    /// Position in the original list for each table slot; -1 for an empty slot.
    private let positions: [Int32]
    private let mask: Int

    /// Indexes `names` (lower case); a name's position in the array is what a lookup returns.
    init(names: [String]) {
        var size = 16
        while size < names.count * 4 { size <<= 1 }
        var keys = [Key](repeating: Key(), count: size)
        var positions = [Int32](repeating: -1, count: size)
        for (position, name) in names.enumerated() {
            guard let key = Array(name.utf8).withUnsafeBytes({ Key($0) }) else { continue }
            var slot = key.hash & (size - 1)
            while positions[slot] >= 0 {
                slot = (slot + 1) & (size - 1)
            }
            keys[slot] = key
            positions[slot] = Int32(position)
        }
        self.keys = keys
        self.positions = positions
        self.mask = size - 1
    }

    /// The position of the name `bytes` spell, in any ASCII case; `nil` when it is not indexed.
    func position(of bytes: UnsafeRawBufferPointer) -> Int? {
        guard let key = Key(bytes) else { return nil }
        var slot = key.hash & self.mask
        while true {
            let position = self.positions[slot]
            if position < 0 { return nil }
            if self.keys[slot] == key { return Int(position) }
            slot = (slot &+ 1) & self.mask
        }
    }
}
