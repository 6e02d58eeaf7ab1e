//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// Splits an inline command line into arguments with the quoting rules of Redis's
/// `sdssplitargs`, so `SET k "a b\x41"` means through Slotgate what it means to Redis.
///
/// Blanks before a word are skipped (C `isspace`); a bare word ends at a space, tab, CR or LF
/// (a vertical tab or form feed inside a word is part of it, as in Redis); `"…"` understands `\n \r \t \b \a \\ \"` and `\xHH`;
/// `'…'` understands only `\'`. A closing quote must be followed by a space or the line end.
enum InlineCommandSplitter {
    static func split(_ line: [UInt8]) throws(RESPProtocolError) -> [[UInt8]] {
        var words: [[UInt8]] = []
        var index = 0
        while true {
            while index < line.count && isSpace(line[index]) { index += 1 }
            guard index < line.count else { return words }
            var word: [UInt8] = []
            var quote: UInt8? = nil
            wordLoop: while true {
                if let openQuote = quote {
                    guard index < line.count else { throw .unbalancedQuotes }
                    let byte = line[index]
                    if openQuote == UInt8(ascii: "\"") && byte == UInt8(ascii: "\\") && index + 3 < line.count
                        && line[index + 1] == UInt8(ascii: "x"), let high = hexValue(line[index + 2]), let low = hexValue(line[index + 3])
                    {
                        word.append(high << 4 | low)
                        index += 4
                        continue
                    }
                    if byte == UInt8(ascii: "\\") && index + 1 < line.count {
                        let escaped = line[index + 1]
                        if openQuote == UInt8(ascii: "\"") {
                            word.append(unescape(escaped))
                            index += 2
                            continue
                        } else if escaped == UInt8(ascii: "'") {
                            word.append(escaped)
                            index += 2
                            continue
                        }
                    }
                    if byte == openQuote {
                        // The closing quote must end the word.
                        if index + 1 < line.count && !isSpace(line[index + 1]) { throw .unbalancedQuotes }
                        index += 1
                        break wordLoop
                    }
                    word.append(byte)
                    index += 1
                } else {
                    guard index < line.count else { break wordLoop }
                    let byte = line[index]
                    if endsBareWord(byte) { break wordLoop }
                    if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                        quote = byte
                    } else {
                        word.append(byte)
                    }
                    index += 1
                }
            }
            words.append(word)
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
            || byte == 0x0B || byte == 0x0C
    }

    private static func endsBareWord(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private static func unescape(_ byte: UInt8) -> UInt8 {
        switch byte {
        case UInt8(ascii: "n"): return UInt8(ascii: "\n")
        case UInt8(ascii: "r"): return UInt8(ascii: "\r")
        case UInt8(ascii: "t"): return UInt8(ascii: "\t")
        case UInt8(ascii: "b"): return 0x08
        case UInt8(ascii: "a"): return 0x07
        default: return byte
        }
    }
}
