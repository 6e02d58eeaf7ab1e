//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import FuzzSupport
import NIOCore
import SlotgateRESP

extension RESPRequestLimits {
    /// Limits far below Redis's, so that declared counts and lengths past them are refused (or
    /// awaited) without the fuzzer allocating gigabytes, and the limit checks themselves are reached.
    fileprivate static let fuzzing = RESPRequestLimits(maxBulkLength: 4096, maxMultibulkCount: 64, maxInlineLength: 512, maxQueryBuffer: 16 * 1024)
}

/// libFuzzer's entry point: the client request decoder, fed what a client might send.
///
/// It exists because the decoder reads untrusted bytes from every client and keeps state across
/// reads. The input is decoded in one buffer and again through ``RequestAssembler`` cut into small
/// reads, as a session does; both must yield the same commands, and every command, encoded
/// afresh as multibulk, must decode to the same arguments.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let whole = decodeInOneBuffer(input)
    whole.checkAgrees(with: assemble(fuzzReads(input)))
    whole.items.forEach(checkReencodes)
    return 0
}

/// A command's arguments as plain bytes, for comparing.
private typealias Arguments = [[UInt8]]

/// The arguments of `request`.
private func arguments(of request: RESPRequest) -> Arguments {
    (0..<request.argumentCount).map { Array(request.argument($0).readableBytesView) }
}

/// Decodes `input` held in one buffer, as if it came in one read.
private func decodeInOneBuffer(_ input: UnsafeRawBufferPointer) -> FuzzOutcome<Arguments> {
    var decoder = RESPRequestDecoder(limits: .fuzzing)
    var buffer = ByteBuffer(bytes: input)
    var outcome = FuzzOutcome<Arguments>()
    do {
        while let request = try decoder.nextRequest(in: &buffer) {
            outcome.items.append(arguments(of: request))
        }
    } catch {
        outcome.failed = true
    }
    return outcome
}

/// Decodes `reads` the way a client session does: each read appended, then requests taken until none is complete.
private func assemble(_ reads: [ByteBuffer]) -> FuzzOutcome<Arguments> {
    var assembler = RequestAssembler(limits: .fuzzing)
    var outcome = FuzzOutcome<Arguments>()
    do {
        for read in reads {
            assembler.append(read)
            while let request = try assembler.next() {
                outcome.items.append(arguments(of: request))
            }
        }
    } catch {
        outcome.failed = true
    }
    return outcome
}

/// Crashes unless `command`, encoded as multibulk, decodes to exactly its arguments and nothing more.
private func checkReencodes(_ command: Arguments) {
    precondition(!command.isEmpty, "a decoded command has no arguments")
    var wire = ByteBuffer()
    wire.writeRESPCommand(command.map { ByteBuffer(bytes: $0) })
    var decoder = RESPRequestDecoder()
    let request = try? decoder.nextRequest(in: &wire)
    precondition(request.map(arguments) == command && wire.readableBytes == 0, "a re-encoded command decodes differently")
}

runLibFuzzer { data, size in data.map { fuzz($0, size) } ?? 0 }
