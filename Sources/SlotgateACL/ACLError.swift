//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// A user definition or rule was refused. The description is the reason in Redis's words where
/// Redis has them (`Error in ACL SETUSER modifier 'xyz': Syntax error`), so that whoever reads
/// users (the configuration file, a test) can show it as it is.
///
/// The ACL module has its own error, rather than the configuration's, because users are read by
/// the configuration and not the other way round: ACL depends on nothing above it.
public struct ACLError: Error, Sendable, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
