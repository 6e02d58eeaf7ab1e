//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// What kind of value a node replied with; enough to decide what to do with the reply without
/// decoding it. The RESP2 kinds' raw values are hiredis's `REDIS_REPLY_*` codes; the RESP3 ones
/// follow (hiredis 0.14 has none).
public enum RESPReplyKind: Int, Sendable {
    case bulkString = 1
    case array = 2
    case integer = 3
    case null = 4
    case simpleString = 5
    case error = 6
    case double = 7
    case boolean = 8
    case bigNumber = 9
    case verbatimString = 10
    case map = 11
    case set = 12
    case push = 13
}
