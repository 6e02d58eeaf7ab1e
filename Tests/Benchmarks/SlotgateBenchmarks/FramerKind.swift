//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Benchmark
import NIOCore

/// The two reply framers a node link may use, each benchmarked on the same bytes (RESP2, which
/// RESP3 includes), and how a framer benchmark is set up.
enum FramerKind: CaseIterable {
    /// `RESPReplyFramer`, over hiredis's `redisReader`: links that speak RESP2.
    case hiredis
    /// `RESP3ReplyFramer`, over `RESPReplyMeasure`: links that said `HELLO 3`.
    case resp3

    /// What one operation of a framer benchmark is.
    enum Operation {
        /// One read from the node, framed.
        case read
        /// One byte of the stream, framed: the cost of a reply per byte.
        case byte
    }

    /// How benchmark names start.
    var label: String {
        switch self {
        case .hiredis: return "RESP2 (hiredis) framer"
        case .resp3: return "RESP3 framer"
        }
    }

    /// A benchmark of this framer on the endless repetition of `unit`, which holds replies of
    /// `replyLength` bytes, arriving in reads of `readSize` bytes (see ``ReplyStream``).
    func register(
        _ name: String,
        unit: ByteBuffer,
        replyLength: Int,
        readSize: Int,
        operation: Operation,
        scalingFactor: BenchmarkScalingFactor
    ) {
        let stream = ReplyStream(unit: unit, readSize: readSize, replyLength: replyLength, resp3: self == .resp3)
        let operationBytes = operation == .read ? readSize : 1
        precondition(scalingFactor.rawValue * operationBytes % readSize == 0, "an iteration must be whole reads")
        let reads = scalingFactor.rawValue * operationBytes / readSize
        Benchmark("\(self.label): \(name)", configuration: .init(scalingFactor: scalingFactor)) { benchmark in
            try stream.feed(reads: reads)
            if stream.misframedCount > 0 {
                benchmark.error("\(stream.misframedCount) replies framed with the wrong length")
            }
        }
    }
}
