//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore

/// Cuts a fuzz input into reads of 1 to 16 bytes, as a socket might deliver it.
///
/// Slotgate's parsers keep state across reads, and their bugs hide where a token straddles two
/// reads. The cut points come from a hash of the input itself, so every input has one fixed,
/// reproducible cutting, and inputs that differ by a byte are cut differently. Each read is a
/// buffer of its own, as NIO hands the proxy a fresh buffer per read.
public func fuzzReads(_ input: UnsafeRawBufferPointer) -> [ByteBuffer] {
    var state = input.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    var reads: [ByteBuffer] = []
    var start = 0
    while start < input.count {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let length = min(Int(state >> 60) + 1, input.count - start)
        reads.append(ByteBuffer(bytes: input[start..<(start + length)]))
        start += length
    }
    return reads
}
