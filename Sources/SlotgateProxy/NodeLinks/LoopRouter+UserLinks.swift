//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore

/// The node links that signed in as a client's user (`acl-mode passthrough`) open when that
/// user's first command needs them, and close once idle, so a user who stopped working costs the
/// nodes no connections.
extension LoopRouter {
    /// Closes the links, shared or pooled, that signed in as anyone but Slotgate and have had
    /// nothing to do for `passthrough-idle-timeout`.
    func closeIdleUserLinks(now: NIODeadline) {
        let limit = self.settings.passthroughIdleTimeout
        let isIdle = { (link: NodeLink) in link.login != NodeLogins.slotgate && link.hasBeenIdle(for: limit, at: now) }
        for link in self.links.values where isIdle(link) {
            link.close()
        }
        for link in self.linkPool.removeAll(where: isIdle) {
            link.close()
        }
    }
}
