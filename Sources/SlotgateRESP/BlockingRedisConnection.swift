//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

internal import CHiredis

/// A synchronous connection to one Redis node: commands go out, replies come back decoded into
/// ``RESPValue``s.
///
/// It blocks its thread, so it is only for threads made to block: the topology monitor's own
/// thread and tests. Event loops never use it. Plain TCP is hiredis's own `redisContext`
/// (``BlockingRedisConnection``); TLS, which Debian's hiredis 0.14 lacks, is a SwiftNIO channel
/// whose replies hiredis's reader still parses (`TLSNodeConnection` in SlotgateCluster).
public protocol BlockingNodeConnection: AnyObject {
    /// Queues a command given as raw byte strings, to pipeline several; read their replies in
    /// order with ``readReply()``.
    func append(_ arguments: [[UInt8]]) throws(BlockingRedisConnectionError)
    /// Writes every queued command without waiting for replies.
    func flush() throws(BlockingRedisConnectionError)
    /// Waits for the next reply of the commands sent so far.
    func readReply() throws(BlockingRedisConnectionError) -> RESPValue
}

extension BlockingNodeConnection {
    /// Sends a command and waits for its reply. A Redis error reply is returned as `.error`, not thrown.
    public func command(_ arguments: [String]) throws(BlockingRedisConnectionError) -> RESPValue {
        try self.append(arguments)
        try self.flush()
        return try self.readReply()
    }

    /// Queues a command without waiting.
    public func append(_ arguments: [String]) throws(BlockingRedisConnectionError) {
        try self.append(arguments.map { Array($0.utf8) })
    }
}

/// A synchronous connection to one Redis node over hiredis's `redisContext`.
public final class BlockingRedisConnection: BlockingNodeConnection {
    private let context: UnsafeMutablePointer<redisContext>

    /// Connects, waiting at most `timeout` for the connection and then for each reply.
    /// - Throws: ``BlockingRedisConnectionError`` when the node cannot be reached.
    public init(host: String, port: Int, timeout: Duration) throws(BlockingRedisConnectionError) {
        let limit = Self.timeval(timeout)
        guard let context = redisConnectWithTimeout(host, Int32(port), limit) else {
            throw BlockingRedisConnectionError(message: "cannot allocate a hiredis context")
        }
        if context.pointee.err != 0 {
            let message = Self.errorText(context)
            redisFree(context)
            throw BlockingRedisConnectionError(message: message)
        }
        redisSetTimeout(context, limit)
        self.context = context
    }

    deinit {
        redisFree(self.context)
    }

    public func append(_ arguments: [[UInt8]]) throws(BlockingRedisConnectionError) {
        let status = withArgumentPointers(arguments) { count, pointers, lengths in
            redisAppendCommandArgv(self.context, count, pointers, lengths)
        }
        if status != REDIS_OK { throw BlockingRedisConnectionError(message: Self.errorText(self.context)) }
    }

    public func flush() throws(BlockingRedisConnectionError) {
        var done: Int32 = 0
        while done == 0 {
            guard redisBufferWrite(self.context, &done) == REDIS_OK else {
                throw BlockingRedisConnectionError(message: Self.errorText(self.context))
            }
        }
    }

    public func readReply() throws(BlockingRedisConnectionError) -> RESPValue {
        var reply: UnsafeMutableRawPointer? = nil
        guard redisGetReply(self.context, &reply) == REDIS_OK, let reply else {
            throw BlockingRedisConnectionError(message: Self.errorText(self.context))
        }
        defer { freeReplyObject(reply) }
        return decodeReply(reply.assumingMemoryBound(to: redisReply.self))
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    private static func timeval(_ duration: Duration) -> CHiredis.timeval {
        let (seconds, attoseconds) = duration.components
        return CHiredis.timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}

/// A hiredis reply object as a ``RESPValue``.
func decodeReply(_ reply: UnsafeMutablePointer<redisReply>) -> RESPValue {
    let value = reply.pointee
    func text() -> [UInt8] {
        guard let str = value.str else { return [] }
        return Array(UnsafeRawBufferPointer(start: str, count: value.len))
    }
    switch value.type {
    case REDIS_REPLY_STRING: return .bulkString(text())
    case REDIS_REPLY_STATUS: return .simpleString(String(decoding: text(), as: UTF8.self))
    case REDIS_REPLY_ERROR: return .error(String(decoding: text(), as: UTF8.self))
    case REDIS_REPLY_INTEGER: return .integer(Int(value.integer))
    case REDIS_REPLY_ARRAY:
        return .array((0..<value.elements).map { decodeReply(value.element[$0]!) })
    default: return .null
    }
}

/// Calls `body` with C views of `arguments`: count, pointers and lengths, as hiredis's `*Argv` functions take them.
private func withArgumentPointers<Result>(
    _ arguments: [[UInt8]],
    _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> Result
) -> Result {
    // One contiguous copy of every argument; the trailing byte keeps it non-empty.
    var joined: [UInt8] = []
    joined.reserveCapacity(arguments.reduce(1) { $0 + $1.count })
    for argument in arguments {
        joined += argument
    }
    joined.append(0)
    let lengths = arguments.map(\.count)
    return joined.withUnsafeBufferPointer { bytes in
        bytes.withMemoryRebound(to: CChar.self) { chars in
            var offset = 0
            var pointers: [UnsafePointer<CChar>?] = lengths.map { length in
                defer { offset += length }
                return UnsafePointer(chars.baseAddress! + offset)
            }
            return body(Int32(arguments.count), &pointers, lengths)
        }
    }
}

/// A blocking connection failed: could not connect, timed out, or the node closed it.
public struct BlockingRedisConnectionError: Error, Sendable, CustomStringConvertible {
    public let message: String

    public init(message: String) {
        self.message = message
    }

    public var description: String { self.message }
}
