//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Benchmark
import NIOCore

/// The linearity check: framing a reply must cost the same per byte however big the reply is.
///
/// Both framers frame a 1,000,000-element array and a 1,000-element array of small bulk strings,
/// each arriving in 1 KB (1,000-byte) reads. One operation is one byte of the stream, and one
/// measured iteration a million of them, so the two figures compare directly: the big array
/// must not cost more per byte than the small one. Each array is exactly 10 bytes per element
/// long, a whole number of reads, so the stream is the same array again and again.
enum FramerLinearityBenchmarks {
    static func register() {
        let arrays = [("1,000", 1_000), ("1,000,000", 1_000_000)].map { name, elements in
            (name: name, bytes: RESPInputs.arrayReply(elements, totalBytes: 10 * elements))
        }
        for framer in FramerKind.allCases {
            for array in arrays {
                framer.register(
                    "\(array.name)-element array in 1 KB reads, per byte",
                    unit: array.bytes,
                    replyLength: array.bytes.readableBytes,
                    readSize: 1_000,
                    operation: .byte,
                    scalingFactor: .mega
                )
            }
        }
    }
}
