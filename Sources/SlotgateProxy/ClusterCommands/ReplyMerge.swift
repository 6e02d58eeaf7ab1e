//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateRESP

/// How the replies of a fan-out's parts become the one reply a single Redis would have given.
///
/// Unless a case says otherwise, the first part (in part order) that failed decides the reply:
/// its error is returned as the node sent it.
enum ReplyMerge {
    /// `MGET`: key `k` went to part `partOfKey[k]`, and each part holds its keys' values in key
    /// order; the merged array puts every value back where its key was.
    case valuesInKeyOrder(partOfKey: [Int32])
    /// `MSET`, `FLUSHALL`, `SCRIPT FLUSH`: `+OK` when every part said so.
    case allOK
    /// `DEL`, `EXISTS`, `DBSIZE`: the sum of the parts' integers.
    case sum
    /// `KEYS`: every part's elements, one array.
    case concatenate
    /// `PUBSUB CHANNELS`: every part's elements, each once.
    case union
    /// `PUBSUB NUMSUB`: `[name, count, name, count…]` from every part, the counts added up.
    case sumPairs
    /// `FUNCTION LOAD`: every master must give the same reply; that reply.
    case identical
    /// `SCRIPT LOAD`: like `identical`, and the SHA the masters gave is remembered with the body.
    case scriptLoaded(body: ByteBuffer, cache: ScriptCache)
    /// `SCRIPT EXISTS`: an element is 1 where every master says 1, or where Slotgate remembers
    /// the script's body (it loads it on any master that lacks it, see ``ScriptCache``).
    case scriptExists(shas: [String], cache: ScriptCache)
    /// `RANDOMKEY`: the reply of a random part that has a key.
    case anyNonNull
    /// `SCAN`: the one part's page, with the node's cursor replaced by the proxy's.
    case scanPage(ScanCursor.Position)
    /// `INFO`: see ``InfoMerge``.
    case info(proxySection: [String]?, service: ServiceFigures)
    /// `CONFIG SET` on every node: see ``NodeConfigChange``; a refusal does not hide the others.
    case configSet(NodeConfigChange)
    /// `WAIT` across masters: parts come in pairs, per master the write that marks how far its
    /// replicas must get, then the `WAIT`; the least of the `WAIT`s' counts (for `WAITAOF`, the
    /// least of each of its two counts).
    case leastWaitCount

    /// The fold of a merge that adds up, which needs no part kept; `nil` for the others.
    var fold: ReplyFold? {
        switch self {
        case .allOK: return ReplyFold(.allOK)
        case .sum: return ReplyFold(.sum)
        default: return nil
        }
    }

    /// Merges the parts' replies; `resp3` says which protocol a reply built here must be in.
    func merge(_ parts: [FramedReply], resp3: Bool) -> ByteBuffer {
        if var fold = self.fold {
            for (index, part) in parts.enumerated() {
                fold.add(index, part)
            }
            return fold.result()
        }
        if case .configSet(let change) = self {
            return change.merged(parts)
        }
        if let failure = parts.first(where: { $0.kind == .error }) {
            return failure.bytes
        }
        var merged = ByteBuffer()
        switch self {
        case .valuesInKeyOrder(let partOfKey):
            var remaining: [ByteBuffer] = []
            remaining.reserveCapacity(parts.count)
            for reply in parts {
                guard let (_, elements) = RESPReplyScanner.arrayBody(reply.bytes) else { return Self.unexpected(reply) }
                remaining.append(elements)
            }
            merged.reserveCapacity(parts.reduce(16) { $0 + $1.bytes.readableBytes })
            merged.writeRESPArrayHeader(count: partOfKey.count)
            for part in partOfKey {
                guard let value = RESPReplyScanner.takeElement(from: &remaining[Int(part)]) else { return Self.unexpected(parts[Int(part)]) }
                merged.writeImmutableBuffer(value)
            }
        case .allOK, .sum:
            preconditionFailure("merges that add up are folded above")
        case .configSet:
            preconditionFailure("CONFIG SET is merged above")
        case .leastWaitCount:
            let answers = stride(from: 1, to: parts.count, by: 2).map { parts[$0] }
            guard let first = answers.first, first.kind == .array else {
                merged.writeRESPInteger(answers.map { $0.integerValue ?? 0 }.min() ?? 0)
                break
            }
            // WAITAOF answers [local, replicas]: the least of each.
            let counts = answers.map { (RESPReplyScanner.elements(ofArray: $0.bytes) ?? []).map { FramedReply(kind: .integer, bytes: $0).integerValue ?? 0 } }
            let width = counts.map(\.count).min() ?? 0
            merged.writeRESPArrayHeader(count: width)
            for index in 0..<width {
                merged.writeRESPInteger(counts.map { $0[index] }.min() ?? 0)
            }
        case .concatenate:
            var all: [ByteBuffer] = []
            for reply in parts {
                guard let elements = RESPReplyScanner.elements(ofArray: reply.bytes) else { return Self.unexpected(reply) }
                all += elements
            }
            merged.writeRESPArrayHeader(count: all.count)
            for element in all {
                merged.writeImmutableBuffer(element)
            }
        case .union:
            var seen = Set<ByteBuffer>()
            var all: [ByteBuffer] = []
            for reply in parts {
                guard let elements = RESPReplyScanner.elements(ofArray: reply.bytes) else { return Self.unexpected(reply) }
                all += elements.filter { seen.insert($0).inserted }
            }
            merged.writeRESPArrayHeader(count: all.count)
            for element in all {
                merged.writeImmutableBuffer(element)
            }
        case .sumPairs:
            let answers = parts.map { RESPReplyScanner.elements(ofArray: $0.bytes) ?? [] }
            merged.writeRESPArrayHeader(count: answers[0].count)
            for index in answers[0].indices {
                if index % 2 == 0 {
                    merged.writeImmutableBuffer(answers[0][index])
                } else {
                    let counts = answers.map { index < $0.count ? FramedReply(kind: .integer, bytes: $0[index]).integerValue ?? 0 : 0 }
                    merged.writeRESPInteger(counts.reduce(0, +))
                }
            }
        case .identical, .scriptLoaded:
            guard parts.allSatisfy({ $0.bytes == parts[0].bytes }) else {
                merged.writeRESPError(ProxyErrors.mastersDisagree)
                return merged
            }
            if case .scriptLoaded(let body, let cache) = self, let sha = RESPReplyScanner.bulkText(parts[0].bytes) {
                cache.remember(sha: sha, body: body)
            }
            return parts[0].bytes
        case .scriptExists(let shas, let cache):
            let answers = parts.map { RESPReplyScanner.elements(ofArray: $0.bytes) ?? [] }
            merged.writeRESPArrayHeader(count: answers[0].count)
            for index in answers[0].indices {
                let everywhere = answers.allSatisfy { index < $0.count && $0[index].readableBytesView.elementsEqual(":1\r\n".utf8) }
                let remembered = index < shas.count && cache.body(sha: shas[index]) != nil
                merged.writeRESPInteger(everywhere || remembered ? 1 : 0)
            }
        case .anyNonNull:
            return parts.filter { $0.kind != .null }.randomElement()?.bytes ?? parts[0].bytes
        case .info(let proxySection, let service):
            let reports = parts.compactMap { RESPReplyScanner.bulkText($0.bytes) ?? RESPReplyScanner.verbatimText($0.bytes) }
            guard reports.count == parts.count else { return Self.unexpected(parts[0]) }
            merged.writeRESPVerbatimText(InfoMerge.merge(reports, proxySection: proxySection, service: service), resp3: resp3)
        case .scanPage(let position):
            guard let elements = RESPReplyScanner.elements(ofArray: parts[0].bytes), elements.count == 2,
                let nodeCursor = RESPReplyScanner.bulkText(elements[0]).flatMap(UInt64.init), nodeCursor <= ScanCursor.maximumNodeCursor
            else { return Self.unexpected(parts[0]) }
            merged.writeRESPArrayHeader(count: 2)
            merged.writeRESPBulkString(String(position.next(nodeCursor: nodeCursor)))
            merged.writeImmutableBuffer(elements[1])
        }
        return merged
    }

    /// The error for a part whose reply is not of the kind the merge expects.
    static func unexpected(_ reply: FramedReply) -> ByteBuffer {
        var error = ByteBuffer()
        error.writeRESPError(ProxyErrors.unexpectedPartReply(reply.lineText))
        return error
    }
}
