//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOConcurrencyHelpers
import NIOCore
import SlotgateRESP

/// The bodies of the scripts clients loaded with `SCRIPT LOAD`, by SHA, shared by every loop.
///
/// A node that joined the cluster, was failed over to, or had its script cache flushed answers
/// `EVALSHA` with `-NOSCRIPT`. Slotgate then loads the body it remembers on that node and runs
/// the `EVALSHA` again, once, so a client never sees NOSCRIPT for a script it loaded. Touched
/// only on `SCRIPT LOAD` replies and NOSCRIPT errors, never per command, so a lock is fine.
package final class ScriptCache: Sendable {
    private let bodies = NIOLockedValueBox<[String: ByteBuffer]>([:])

    package init() {}

    func remember(sha: String, body: ByteBuffer) {
        // A copy: the body is a slice of a client's read buffer, which it should not keep alive.
        let copy = ByteBuffer(bytes: body.readableBytesView)
        self.bodies.withLockedValue { $0[sha.lowercased()] = copy }
    }

    func body(sha: String) -> ByteBuffer? {
        self.bodies.withLockedValue { $0[sha.lowercased()] }
    }

    /// The `SCRIPT LOAD` that puts the script run by an `EVALSHA` request back on a node, or `nil`
    /// when the request is not an `EVALSHA` of a script Slotgate saw loaded.
    func reloadCommand(for evalsha: ByteBuffer) -> ByteBuffer? {
        guard let arguments = RESPReplyScanner.elements(ofArray: evalsha), arguments.count >= 2,
            let sha = RESPReplyScanner.bulkText(arguments[1]), let body = self.body(sha: sha)
        else { return nil }
        var command = ByteBuffer()
        command.writeRESPCommand([ByteBuffer(string: "SCRIPT"), ByteBuffer(string: "LOAD"), body])
        return command
    }
}
