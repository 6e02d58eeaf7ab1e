//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import FuzzSupport
import NIOCore
import SlotgateRESP

/// libFuzzer's entry point: both node reply framers (hiredis for RESP2, Swift for RESP3), fed
/// what a node might send.
///
/// It exists because the framers slice replies out of the stream by lengths the node declares,
/// and the RESP2 framer tracks hiredis's cursor across its buffer compaction and hands replies
/// too deep for hiredis to a fresh reader. Each framer frames the input in one read and cut into
/// small reads; both must yield the same replies, and the replies, one after another, must be
/// exactly the input's first bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    for resp3 in [false, true] {
        let whole = frame([ByteBuffer(bytes: input)], resp3: resp3)
        let chunked = frame(fuzzReads(input), resp3: resp3)
        whole.checkAgrees(with: chunked)
        checkTiles(whole.items, input)
        checkTiles(chunked.items, input)
    }
    return 0
}

/// One framed reply, comparable.
private struct Frame: Equatable {
    let kind: RESPReplyKind
    let bytes: ByteBuffer
}

/// Frames `reads` the way a node link does: each read fed, then replies taken until none is complete.
private func frame(_ reads: [ByteBuffer], resp3: Bool) -> FuzzOutcome<Frame> {
    let framing = ReplyFraming(resp3: resp3)
    var outcome = FuzzOutcome<Frame>()
    do {
        for read in reads {
            framing.feed(read)
            while let reply = try framing.next() {
                outcome.items.append(Frame(kind: reply.kind, bytes: reply.bytes))
            }
        }
    } catch {
        outcome.failed = true
    }
    return outcome
}

/// Crashes unless `frames` are non-empty and, laid end to end, the first bytes of `input`.
private func checkTiles(_ frames: [Frame], _ input: UnsafeRawBufferPointer) {
    var offset = 0
    for frame in frames {
        let length = frame.bytes.readableBytes
        precondition(length > 0 && offset + length <= input.count, "a reply is empty or runs past the input")
        precondition(frame.bytes.readableBytesView.elementsEqual(input[offset..<(offset + length)]), "a reply is not the node's bytes")
        offset += length
    }
}

runLibFuzzer { data, size in data.map { fuzz($0, size) } ?? 0 }
