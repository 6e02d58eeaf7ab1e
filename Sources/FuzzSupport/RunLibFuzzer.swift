//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import CFuzzerDriver

#if canImport(Glibc)
    import Glibc
#endif

/// Hands the process to libFuzzer, which calls `testOneInput` for every input, and exits with its status.
///
/// SwiftPM links every executable with its module's top-level code as `main`, so libFuzzer's own
/// `main` is never linked in; each fuzz target's `main.swift` calls this instead.
public func runLibFuzzer(_ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
}
