//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Benchmark
import NIOCore
import NIOEmbedded

/// The dispatch of one command on the fast path, end to end (see ``FastPathHarness``), and the
/// part of its cost that belongs to the embedded loop rather than to Slotgate: one operation is
/// one `GET` and its reply, or one loop turn.
///
/// The fast path is meant to allocate nothing of its own, so the difference between the two
/// malloc counts is the hot path's regression guard: it should be 0.
enum FastPathBenchmarks {
    static func register() {
        Benchmark("Fast path: GET from client to shared node link and back", configuration: .init(scalingFactor: .kilo)) { benchmark in
            // A harness per iteration: the embedded loop must stay on the thread that made it.
            let harness = try FastPathHarness()
            try benchmark.measureWarm {
                try harness.dispatchGet()
            }
            if !harness.deliveredAll {
                benchmark.error("a request or a reply did not arrive in full")
            }
            try harness.close()
        }
        // The loop's end-of-turn flush task alone, scheduled as `TurnFlush.schedule`
        // schedules it, and run. The harness pays it once per command; a real event loop once per
        // turn, for every read of that turn.
        Benchmark("Fast path floor: one end-of-turn task on the embedded loop", configuration: .init(scalingFactor: .kilo)) { benchmark in
            let loop = EmbeddedEventLoop()
            let turns = TurnCounter()
            benchmark.measureWarm {
                let bound = NIOLoopBound(turns, eventLoop: loop)
                loop.execute { bound.value.count += 1 }
                loop.run()
            }
            if turns.count != benchmark.scaledIterations.count + Benchmark.warmUpRuns {
                benchmark.error("\(turns.count) loop tasks ran")
            }
        }
    }

    /// What the floor's loop task does: counts the turns.
    private final class TurnCounter {
        var count = 0
    }
}
