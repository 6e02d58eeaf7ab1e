//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Dispatch

#if canImport(Glibc)
    import Glibc
#endif

/// Waits for SIGINT or SIGTERM, the two ways an operator or systemd asks the proxy to stop.
enum TerminationSignal {
    /// Suspends until one of the signals arrives and returns its name.
    static func wait() async -> String {
        await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
            let queue = DispatchQueue(label: "slotgate.signals")
            let once = ResumeOnce(continuation)
            for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { once.resume(name) }
                source.resume()
                once.keep(source)
            }
        }
    }
}

/// Resumes a continuation with the first signal only, and keeps the signal sources alive meanwhile.
/// Touched only on the signal queue once set up.
private final class ResumeOnce: @unchecked Sendable {
    private var continuation: CheckedContinuation<String, Never>?
    private var sources: [any DispatchSourceSignal] = []

    init(_ continuation: CheckedContinuation<String, Never>) {
        self.continuation = continuation
    }

    func keep(_ source: any DispatchSourceSignal) {
        self.sources.append(source)
    }

    func resume(_ name: String) {
        self.continuation?.resume(returning: name)
        self.continuation = nil
    }
}
