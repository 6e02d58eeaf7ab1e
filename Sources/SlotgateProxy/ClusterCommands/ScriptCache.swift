//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Crypto
import NIOConcurrencyHelpers
import NIOCore
import SlotgateRESP

/// The bodies of the scripts clients loaded with `SCRIPT LOAD` or ran with `EVAL`, by SHA,
/// shared by every loop.
///
/// A node that joined the cluster, was failed over to, had its script cache flushed, or never
/// saw the script (an `EVAL` ran on another master) answers `EVALSHA` with `-NOSCRIPT`.
/// Slotgate then loads the body it remembers on that node and runs the `EVALSHA` again, once, so
/// a client never sees NOSCRIPT for a script it loaded or ran, and `SCRIPT EXISTS` can say so.
/// Touched on `SCRIPT LOAD`, `EVAL`, `SCRIPT EXISTS` and NOSCRIPT errors, never by other
/// commands; the lock is held for one dictionary access.
package final class ScriptCache: Sendable {
    private let bodies = NIOLockedValueBox<[String: ByteBuffer]>([:])

    package init() {}

    func remember(sha: String, body: ByteBuffer) {
        // A copy: the body is a slice of a client's read buffer, which it should not keep alive.
        let copy = ByteBuffer(bytes: body.readableBytesView)
        self.bodies.withLockedValue { $0[sha.lowercased()] = copy }
    }

    /// Remembers the body of a script a client ran with `EVAL`, under the SHA1 Redis caches it
    /// by (Redis hashes every `EVAL`'s body the same way).
    func rememberEvaluated(_ body: ByteBuffer) {
        var hasher = Insecure.SHA1()
        body.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
        let sha = hasher.finalize().reduce(into: "") { hex, byte in
            hex += String(byte >> 4, radix: 16) + String(byte & 0x0f, radix: 16)
        }
        self.bodies.withLockedValue { bodies in
            if bodies[sha] == nil {
                bodies[sha] = ByteBuffer(bytes: body.readableBytesView)
            }
        }
    }

    /// `SCRIPT FLUSH`: the masters forget every script, and so does Slotgate.
    func forgetAll() {
        self.bodies.withLockedValue { $0.removeAll() }
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
