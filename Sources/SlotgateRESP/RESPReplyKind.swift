//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// What kind of value a node replied with; enough to decide what to do with the reply without
/// decoding it. The raw values are hiredis's `REDIS_REPLY_*` codes.
public enum RESPReplyKind: Int, Sendable {
    case bulkString = 1
    case array = 2
    case integer = 3
    case null = 4
    case simpleString = 5
    case error = 6
}
