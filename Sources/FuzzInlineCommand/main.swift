//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import FuzzSupport

@testable import SlotgateRESP

/// libFuzzer's entry point: the inline command splitter, fed one line as a client might type it.
///
/// It exists because the splitter's quoting and escapes (`"…\xHH"`, `'…\''`) index ahead in the
/// line on untrusted bytes. Every word it returns, written back as a `"\xHH…"` string, must split
/// back to the same words.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let words = try? InlineCommandSplitter.split(Array(UnsafeBufferPointer(start: data, count: size))) else { return 0 }
    let requoted = Array(words.map(quoted).joined(separator: [UInt8(ascii: " ")]))
    precondition((try? InlineCommandSplitter.split(requoted)) == words, "requoted words split differently")
    return 0
}

/// `word` as a double-quoted string with every byte escaped as `\xHH`.
private func quoted(_ word: [UInt8]) -> [UInt8] {
    let digits = Array("0123456789abcdef".utf8)
    var result: [UInt8] = [UInt8(ascii: "\"")]
    for byte in word {
        result += [UInt8(ascii: "\\"), UInt8(ascii: "x"), digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
    }
    result.append(UInt8(ascii: "\""))
    return result
}

runLibFuzzer { data, size in data.map { fuzz($0, size) } ?? 0 }
