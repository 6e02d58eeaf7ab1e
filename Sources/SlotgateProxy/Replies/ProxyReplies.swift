//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateRESP

/// Fixed replies and commands the proxy writes itself, encoded once.
enum ProxyReplies {
    static let ok = encoded { $0.writeRESPSimpleString("OK") }
    static let queued = encoded { $0.writeRESPSimpleString("QUEUED") }
    static let emptyArray = encoded { $0.writeRESPArrayHeader(count: 0) }
    static let multiCommand = encoded { $0.writeRESPCommand(["MULTI"]) }
    static let execCommand = encoded { $0.writeRESPCommand(["EXEC"]) }
    static let hello3Command = encoded { $0.writeRESPCommand(["HELLO", "3"]) }
    static let askingCommand = encoded { $0.writeRESPCommand(["ASKING"]) }
    static let discardCommand = encoded { $0.writeRESPCommand(["DISCARD"]) }
    static let clientIDCommand = encoded { $0.writeRESPCommand(["CLIENT", "ID"]) }
    static let readOnlyCommand = encoded { $0.writeRESPCommand(["READONLY"]) }
    static let pingCommand = encoded { $0.writeRESPCommand(["PING"]) }

    private static func encoded(_ write: (inout ByteBuffer) -> Void) -> ByteBuffer {
        var bytes = ByteBuffer()
        write(&bytes)
        return bytes
    }
}
