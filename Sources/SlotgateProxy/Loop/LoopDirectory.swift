//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOConcurrencyHelpers
import NIOCore

/// Every event loop's ``ProxyLoop``, for the few things that concern all of Slotgate: commands
/// about every client (`CLIENT LIST`, `CLIENT KILL`), `INFO`'s figures, the admin port, a node
/// found down. Each loop is reached on its own thread, with a task; nothing is shared.
package final class LoopDirectory: Sendable {
    private let loops = NIOLockedValueBox<[NIOLoopBound<ProxyLoop>]>([])

    package init() {}

    /// Set once, when all loops exist.
    func register(_ loops: [NIOLoopBound<ProxyLoop>]) {
        self.loops.withLockedValue { $0 = loops }
    }

    /// The first loop's event loop, for work that needs some loop to complete on.
    var anyEventLoop: any EventLoop {
        self.loops.withLockedValue { $0[0].eventLoop }
    }

    /// Runs `body` on every loop but `eventLoop`'s, without waiting.
    func tellOthers(than eventLoop: any EventLoop, _ body: @escaping @Sendable (ProxyLoop) -> Void) {
        for loop in self.loops.withLockedValue({ $0 }) where loop.eventLoop !== eventLoop {
            loop.eventLoop.execute { body(loop.value) }
        }
    }

    /// Runs `body` on every loop and gathers the results on `eventLoop`.
    func gather<Result: Sendable>(
        on eventLoop: any EventLoop,
        _ body: @escaping @Sendable (ProxyLoop) -> Result
    ) -> EventLoopFuture<[Result]> {
        let futures = self.loops.withLockedValue { $0 }.map { loop in
            loop.eventLoop.submit { body(loop.value) }
        }
        return EventLoopFuture.whenAllSucceed(futures, on: eventLoop)
    }
}
