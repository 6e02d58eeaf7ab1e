//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

// Run from the repository's root folder (the one holding Package.swift):
//
//     swift package benchmark --target SlotgateBenchmarks
//
// It builds this target in release mode and prints, for each benchmark, its wall time and its
// mallocs per operation (`--filter <regex>` runs some of them; `--scale` prints the figures per
// measured iteration instead, which for the per-byte benchmarks means per million bytes).

import Benchmark

/// Every benchmark of the suite, registered when the plugin's generated `main` calls it.
let benchmarks: @Sendable () -> Void = {
    // About a second per benchmark on a busy two-core machine: the figures are indicative, and
    // the malloc counts, which do not depend on the machine, are what flags a regression.
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal],
        maxDuration: .seconds(1),
        maxIterations: 1_000
    )
    RequestDecoderBenchmarks.register()
    HashSlotBenchmarks.register()
    ReplyFramerBenchmarks.register()
    FramerLinearityBenchmarks.register()
    FastPathBenchmarks.register()
}
