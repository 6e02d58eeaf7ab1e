//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Benchmark
import NIOCore
import SlotgateRESP

/// The client-side decoder, `RESPRequestDecoder.nextRequest(in:)`, on whole reads: one operation
/// is one read decoded into all of its requests.
enum RequestDecoderBenchmarks {
    static func register() {
        self.register("Request decoder: read of 16 pipelined GETs", read: RESPInputs.pipelinedGets(16), requests: 16)
        self.register("Request decoder: read of one SET with a 4 KB value", read: RESPInputs.set(valueSize: 4096), requests: 1)
    }

    /// Decodes `read`, which holds `requests` requests, once per operation, with one decoder (it
    /// keeps its argument offsets' storage from one request to the next).
    private static func register(_ name: String, read: ByteBuffer, requests: Int) {
        var check = RESPRequestDecoder()
        precondition((try? self.decodeAll(read, with: &check)) == requests, "\(name): the read does not hold \(requests) requests")
        Benchmark(name, configuration: .init(scalingFactor: .kilo)) { benchmark in
            var decoder = RESPRequestDecoder()
            try benchmark.measureWarm {
                _ = try self.decodeAll(read, with: &decoder)
            }
        }
    }

    /// Takes every request out of `read`; returns how many there were.
    private static func decodeAll(_ read: ByteBuffer, with decoder: inout RESPRequestDecoder) throws -> Int {
        var bytes = read
        var count = 0
        while let request = try decoder.nextRequest(in: &bytes) {
            blackHole(request.argumentCount)
            count += 1
        }
        return count
    }
}
