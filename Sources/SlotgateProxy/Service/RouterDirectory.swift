//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOConcurrencyHelpers
import NIOCore

/// Every event loop's router, for the few commands that concern all of Slotgate's clients
/// (`CLIENT LIST`, `CLIENT KILL`). Each router is reached on its own loop; nothing is shared.
package final class RouterDirectory: Sendable {
    private let routers = NIOLockedValueBox<[NIOLoopBound<LoopRouter>]>([])

    package init() {}

    /// Set once, when all routers exist.
    func register(_ routers: [NIOLoopBound<LoopRouter>]) {
        self.routers.withLockedValue { $0 = routers }
    }

    /// The first router's loop, for work that needs some loop to complete on.
    var anyEventLoop: any EventLoop {
        self.routers.withLockedValue { $0[0].eventLoop }
    }

    /// Runs `body` on every router's loop but `eventLoop`'s, without waiting.
    func tellOthers(than eventLoop: any EventLoop, _ body: @escaping @Sendable (LoopRouter) -> Void) {
        for router in self.routers.withLockedValue({ $0 }) where router.eventLoop !== eventLoop {
            router.eventLoop.execute { body(router.value) }
        }
    }

    /// Runs `body` on every router's loop and gathers the results on `eventLoop`.
    func gather<Result: Sendable>(
        on eventLoop: any EventLoop,
        _ body: @escaping @Sendable (LoopRouter) -> Result
    ) -> EventLoopFuture<[Result]> {
        let futures = self.routers.withLockedValue { $0 }.map { router in
            router.eventLoop.submit { body(router.value) }
        }
        return EventLoopFuture.whenAllSucceed(futures, on: eventLoop)
    }
}

/// Which clients a `CLIENT KILL` names.
struct ClientFilter: Sendable {
    var id: Int?
    var address: String?
    /// The id of the client asking, spared unless `SKIPME no`.
    var skip: Int?

    func matches(id: Int, address: String) -> Bool {
        (self.id == nil || self.id == id) && (self.address == nil || self.address == address) && self.skip != id
    }
}
