//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// Who checks a client's user and password, and whose ACL rules its commands meet (`acl-mode`).
///
/// Under `proxy` Slotgate is the server the client signs in to, and the nodes see one user,
/// Slotgate's own. Under `passthrough` the cluster is: each user a client signs in as reaches the
/// nodes as that user, so the nodes' own ACLs apply, and Slotgate keeps the users apart on links
/// of their own.
public enum ACLMode: String, Sendable, CaseIterable {
    /// Slotgate checks passwords and commands against its own `user` lines, or `requirepass`.
    case proxy
    /// `AUTH` is checked by the cluster, and each signed-in user's commands travel on shared,
    /// pipelined node links that signed in as that user (see ``NodeLogins``).
    case passthrough
}
