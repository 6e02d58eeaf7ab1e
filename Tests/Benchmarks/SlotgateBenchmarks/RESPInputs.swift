//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateRESP

/// The bytes the benchmarks feed Slotgate, built once before anything is measured: requests as
/// a client library writes them, replies as a Redis node writes them.
enum RESPInputs {
    /// `count` pipelined `GET key:NNNN` requests, back to back, as one read brings them.
    static func pipelinedGets(_ count: Int) -> ByteBuffer {
        var bytes = ByteBuffer()
        for index in 0..<count {
            bytes.writeRESPCommand(["GET", self.key(index)])
        }
        return bytes
    }

    /// `SET key:0000 <value>` with a value of `valueSize` bytes.
    static func set(valueSize: Int) -> ByteBuffer {
        var bytes = ByteBuffer()
        bytes.writeRESPCommand(["SET", self.key(0), String(repeating: "v", count: valueSize)])
        return bytes
    }

    /// `count` bulk-string replies of `size` bytes each, back to back.
    static func bulkReplies(_ count: Int, size: Int) -> ByteBuffer {
        var bytes = ByteBuffer()
        let value = String(repeating: "r", count: size)
        for _ in 0..<count {
            bytes.writeRESPBulkString(value)
        }
        return bytes
    }

    /// An array reply of `count` small bulk strings, exactly `totalBytes` long: its elements are
    /// 3 bytes (9 on the wire) or 4 bytes (10 on the wire), as many of each as that length needs,
    /// so that a stream of such arrays can be cut into reads of a size that divides `totalBytes`.
    static func arrayReply(_ count: Int, totalBytes: Int) -> ByteBuffer {
        var bytes = ByteBuffer()
        bytes.writeRESPArrayHeader(count: count)
        let longElements = totalBytes - bytes.readableBytes - 9 * count
        precondition((0...count).contains(longElements), "\(count) small elements cannot fill \(totalBytes) bytes")
        for index in 0..<count {
            bytes.writeRESPBulkString(index < longElements ? "elem" : "elm")
        }
        precondition(bytes.readableBytes == totalBytes)
        return bytes
    }

    /// The `index`th key (below 10,000), `key:0000` onwards: 8 bytes.
    static func key(_ index: Int) -> String {
        "key:" + String(String(10_000 + index).dropFirst())
    }
}
