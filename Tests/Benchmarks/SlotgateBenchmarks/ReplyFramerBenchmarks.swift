//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Benchmark
import NIOCore

/// Both reply framers on reads that each hold 16 whole replies, as a busy node link receives
/// them: one operation is one read, framed into its 16 replies.
enum ReplyFramerBenchmarks {
    static func register() {
        for framer in FramerKind.allCases {
            // 32-byte values: 39 bytes a reply, 624 a read.
            self.register(framer, "read of 16 × 32 B bulk replies", valueSize: 32, scalingFactor: .kilo)
            // 4 KB values: 4,105 bytes a reply, 65,680 a read.
            self.register(framer, "read of 16 × 4 KB bulk replies", valueSize: 4096, scalingFactor: .one)
        }
    }

    private static func register(_ framer: FramerKind, _ name: String, valueSize: Int, scalingFactor: BenchmarkScalingFactor) {
        let read = RESPInputs.bulkReplies(16, size: valueSize)
        framer.register(
            name,
            unit: read,
            replyLength: read.readableBytes / 16,
            readSize: read.readableBytes,
            operation: .read,
            scalingFactor: scalingFactor
        )
    }
}
