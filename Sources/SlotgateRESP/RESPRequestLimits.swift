//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// The bounds a client request must stay within, the same ones Redis enforces.
///
/// They exist so that a broken or hostile client is cut off with a protocol error before it can
/// make the proxy hold unbounded memory for it; a declared length alone never allocates.
public struct RESPRequestLimits: Sendable, Hashable {
    /// Largest bulk argument, in bytes (Redis `proto-max-bulk-len`, 512 MB).
    public var maxBulkLength: Int
    /// Most arguments in one multibulk request (Redis 7.0: 2,147,483,647; the query buffer limit
    /// bounds what a client can really send).
    public var maxMultibulkCount: Int
    /// Longest inline request or length line without a line end (Redis: 64 KB).
    public var maxInlineLength: Int
    /// Most bytes of one client's requests buffered while a request is incomplete (Redis
    /// `client-query-buffer-limit`, 1 GB).
    public var maxQueryBuffer: Int

    public init(
        maxBulkLength: Int = 512 * 1024 * 1024,
        maxMultibulkCount: Int = Int(Int32.max),
        maxInlineLength: Int = 64 * 1024,
        maxQueryBuffer: Int = 1024 * 1024 * 1024
    ) {
        self.maxBulkLength = maxBulkLength
        self.maxMultibulkCount = maxMultibulkCount
        self.maxInlineLength = maxInlineLength
        self.maxQueryBuffer = maxQueryBuffer
    }
}
