//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// What every event loop shares with the others. Each member is safe to use from any thread on
/// its own (a lock or an atomic inside), so the loops share these and nothing else.
package struct ProxyShared: Sendable {
    /// The address Slotgate gives as its own.
    let identity: ProxyIdentity
    /// Links single clients hold to themselves, counted across all loops.
    let exclusiveLinks: ExclusiveLinkBudget
    /// Clients connected across all loops, for `maxclients`.
    let connectedClients: BoundedCounter
    /// Failed `AUTH` attempts by address.
    let authFailures: AuthFailureLimiter
    /// Scripts clients loaded, to load again on nodes that lost them.
    let scripts: ScriptCache
    /// Every loop, for commands about all clients.
    let directory: LoopDirectory

    package init(
        identity: ProxyIdentity,
        exclusiveLinks: ExclusiveLinkBudget,
        connectedClients: BoundedCounter,
        authFailures: AuthFailureLimiter,
        scripts: ScriptCache,
        directory: LoopDirectory
    ) {
        self.identity = identity
        self.exclusiveLinks = exclusiveLinks
        self.connectedClients = connectedClients
        self.authFailures = authFailures
        self.scripts = scripts
        self.directory = directory
    }
}
