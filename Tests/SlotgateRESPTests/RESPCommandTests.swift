//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateRESP
import Testing

/// Protects the command value the proxy routes: commands it builds itself carry the multibulk
/// bytes a node expects, and names compare the way Redis compares them.
@Suite("RESPCommand")
struct RESPCommandTests {
    @Test("a command built from strings carries its multibulk wire form")
    func fromStrings() {
        let command = RESPCommand(["CLUSTER", "SLOTS"])
        #expect(command.arguments == [ByteBuffer(string: "CLUSTER"), ByteBuffer(string: "SLOTS")])
        #expect(String(buffer: command.wire) == "*2\r\n$7\r\nCLUSTER\r\n$5\r\nSLOTS\r\n")
    }

    @Test("lowercasedName folds the name's case; argumentString reads any argument")
    func names() {
        let command = RESPCommand(["GeT", "Key"])
        #expect(command.lowercasedName == "get")
        #expect(command.argumentString(0) == "GeT")
        #expect(command.argumentString(1) == "Key")
    }

    @Test("argumentString replaces bytes that are not UTF-8")
    func invalidUTF8() {
        let command = RESPCommand(arguments: [ByteBuffer(bytes: [0x47, 0xFF, 0x54])], wire: ByteBuffer())
        #expect(command.argumentString(0) == "G\u{FFFD}T")
    }
}
