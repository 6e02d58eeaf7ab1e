//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateRESP
import Testing

/// Protects how a session's reads become requests: however the reads cut the stream, the
/// requests are the ones the decoder finds in the whole stream; a request that arrives within one
/// read stays a slice of that read even when the request before it was carried over from earlier
/// reads; and a huge request spread over many reads is assembled whole.
@Suite("RequestAssembler")
struct RequestAssemblerTests {
    typealias Decoded = RESPRequestDecoderTests.Decoded

    /// Takes every request out of `reads`, fed one read at a time as a session feeds them.
    static func assemble(_ reads: [[UInt8]]) throws(RESPProtocolError) -> (requests: [Decoded], buffered: Int) {
        var assembler = RequestAssembler(limits: RESPRequestLimits())
        var requests: [Decoded] = []
        for read in reads {
            assembler.append(ByteBuffer(bytes: read))
            while let request = try assembler.next() {
                requests.append(Decoded(request.command))
            }
        }
        return (requests, assembler.bufferedBytes)
    }

    /// Multibulk and inline requests of every size, empty ones among them.
    static let stream: [UInt8] = {
        var bytes: [UInt8] = []
        bytes += Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n")
        bytes += Array("PING\r\n\r\n*0\r\n")
        bytes += Array("*1002\r\n$4\r\nMGET\r\n" + String(repeating: "$1\r\nx\r\n", count: 1001))
        bytes += Array("ECHO \"a b\"\n")
        bytes += Array("*2\r\n$3\r\nGET\r\n$3000\r\n") + [UInt8](repeating: UInt8(ascii: "v"), count: 3000) + Array("\r\n")
        bytes += Array("*1\r\n$4\r\nPING\r\n")
        return bytes
    }()

    @Test func readsCutAnywhereGiveTheRequestsOfTheWholeStream() throws {
        let whole = try RESPRequestDecoderTests.decode(chunks: [Self.stream]).commands
        #expect(whole.count == 6)
        var generator = SeededGenerator(seed: 22)
        for sizes in [1...3, 1...40, 100...5000] {
            for _ in 0..<50 {
                let assembled = try Self.assemble(Self.stream.chunked(sizes: sizes, using: &generator))
                #expect(assembled.requests == whole, "reads of \(sizes) bytes")
                #expect(assembled.buffered == 0)
            }
        }
    }

    @Test func aRequestWithinOneReadIsASliceOfItAfterACarriedRequest() throws {
        let first = Array("*2\r\n$3\r\nGET\r\n$10\r\n0123456789\r\n")
        let second = Array("*2\r\n$3\r\nGET\r\n$3\r\nabc\r\n")
        let cut = 20
        var assembler = RequestAssembler(limits: RESPRequestLimits())
        assembler.append(ByteBuffer(bytes: first[..<cut]))
        #expect(try assembler.next() == nil)
        #expect(assembler.bufferedBytes == cut)

        let read = ByteBuffer(bytes: first[cut...] + second)
        assembler.append(read)
        let carried = try #require(try assembler.next())
        #expect(Decoded(carried.command).wire == first)
        let inPlace = try #require(try assembler.next())
        #expect(Decoded(inPlace.command).wire == second)
        let within = read.withUnsafeReadableBytes { readBytes in
            inPlace.wire.withUnsafeReadableBytes { wire in
                wire.baseAddress! >= readBytes.baseAddress! && wire.baseAddress! + wire.count <= readBytes.baseAddress! + readBytes.count
            }
        }
        #expect(within, "the second request is copied out of its read")
        #expect(try assembler.next() == nil)
        #expect(assembler.bufferedBytes == 0)
    }

    @Test func aMillionArgumentsOverManyReadsAreOneRequest() throws {
        let count = 1_000_000
        let header = Array("*\(count + 1)\r\n$6\r\nEXISTS\r\n")
        let argument = Array("$1\r\nx\r\n")
        var stream = header
        stream.reserveCapacity(header.count + count * argument.count + 20)
        for _ in 0..<count { stream += argument }
        stream += Array("PING\r\n")
        let reads = stride(from: 0, to: stream.count, by: 65536).map { Array(stream[$0..<min($0 + 65536, stream.count)]) }

        let assembled = try Self.assemble(reads)
        try #require(assembled.requests.count == 2)
        #expect(assembled.requests[0].arguments.count == count + 1)
        #expect(assembled.requests[0].wire == Array(stream.dropLast(6)))
        #expect(assembled.requests[1].arguments == [Array("PING")])
        #expect(assembled.buffered == 0)
    }
}
