//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// A client broke the RESP protocol; the connection cannot be trusted to stay in frame.
///
/// The `message` is the text Redis itself uses (`invalid bulk length`, …) so that a client sees
/// the same `-ERR Protocol error: …` through Slotgate as from a single Redis, after which the
/// connection is closed, as Redis does.
public struct RESPProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The reason, without the `Protocol error: ` prefix.
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { "Protocol error: \(self.message)" }

    static let invalidMultibulkLength = RESPProtocolError("invalid multibulk length")
    static let invalidBulkLength = RESPProtocolError("invalid bulk length")
    static let tooBigMultibulkCount = RESPProtocolError("too big mbulk count string")
    static let tooBigBulkCount = RESPProtocolError("too big bulk count string")
    static let tooBigInlineRequest = RESPProtocolError("too big inline request")
    static let unbalancedQuotes = RESPProtocolError("unbalanced quotes in request")
    static let queryBufferLimit = RESPProtocolError("client query buffer limit reached")

    static func expectedDollar(got byte: UInt8) -> RESPProtocolError {
        RESPProtocolError("expected '$', got '\(Character(Unicode.Scalar(byte)))'")
    }
}
