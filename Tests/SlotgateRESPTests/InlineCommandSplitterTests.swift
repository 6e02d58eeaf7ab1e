//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Testing

@testable import SlotgateRESP

/// Protects the inline quoting rules: an inline command must split into the same arguments as
/// Redis's `sdssplitargs` gives, escapes and quote errors included.
@Suite("InlineCommandSplitter")
struct InlineCommandSplitterTests {
    static func split(_ line: String) throws(RESPProtocolError) -> [[UInt8]] {
        try InlineCommandSplitter.split([UInt8](line))
    }

    static func words(_ line: String) throws(RESPProtocolError) -> [String] {
        try self.split(line).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test("plain words split on spaces, however many")
    func plainWords() throws {
        #expect(try Self.words("SET key value") == ["SET", "key", "value"])
        #expect(try Self.words("   SET    key  value   ") == ["SET", "key", "value"])
    }

    @Test("tabs separate words like spaces")
    func tabsSeparate() throws {
        #expect(try Self.words("GET\tkey") == ["GET", "key"])
        #expect(try Self.words("\t MSET\t\ta 1 \tb\t2\t") == ["MSET", "a", "1", "b", "2"])
    }

    @Test("an empty or blank line has no words", arguments: ["", " ", "\t\t", "  \t  "])
    func blankLine(line: String) throws {
        #expect(try Self.split(line).isEmpty)
    }

    @Test("double quotes understand \\n \\r \\t \\b \\a \\\\ and \\\"")
    func doubleQuoteEscapes() throws {
        #expect(try Self.split(#""\n\r\t\b\a\\\"""#) == [[0x0A, 0x0D, 0x09, 0x08, 0x07, 0x5C, 0x22]])
    }

    @Test("double quotes understand \\xHH in either case")
    func hexEscapes() throws {
        #expect(try Self.split(#""\x41\x7a\xFF\x00\xaB""#) == [[0x41, 0x7A, 0xFF, 0x00, 0xAB]])
        #expect(try Self.split(#"set k "a b\x41\n""#) == [[UInt8]("set"), [UInt8]("k"), [UInt8]("a bA\n")])
    }

    @Test("an incomplete or non-hex \\x stands for the characters themselves")
    func incompleteHexEscape() throws {
        #expect(try Self.words(#""\x4""#) == ["x4"])
        #expect(try Self.words(#""\xzz""#) == ["xzz"])
        #expect(try Self.words(#""a\x4g""#) == ["ax4g"])
    }

    @Test("any other escaped character stands for itself")
    func otherEscapes() throws {
        #expect(try Self.words(#""\q\'\ ""#) == ["q' "])
    }

    @Test("single quotes keep backslashes except before a single quote")
    func singleQuotes() throws {
        #expect(try Self.words(#"'it\'s'"#) == ["it's"])
        #expect(try Self.split(#"'a\nb\x41'"#) == [[UInt8](#"a\nb\x41"#)])
        #expect(try Self.words(#"'say "hi"'"#) == [#"say "hi""#])
    }

    @Test("quotes keep spaces and make empty arguments")
    func quotedSpacesAndEmpty() throws {
        #expect(try Self.words(#"SET k "two words""#) == ["SET", "k", "two words"])
        #expect(try Self.words(#"SET k """#) == ["SET", "k", ""])
        #expect(try Self.words("SET k ''") == ["SET", "k", ""])
        #expect(try Self.words(#"ECHO "a\tb""#) == ["ECHO", "a\tb"])
    }

    @Test("a quote may open inside a word and continues it")
    func quoteInsideWord() throws {
        #expect(try Self.words(#"ab"cd""#) == ["abcd"])
        #expect(try Self.words(#"key:"with space" next"#) == ["key:with space", "next"])
    }

    @Test("a closing quote may be followed by a tab or the line end")
    func closingQuoteThenSeparator() throws {
        #expect(try Self.words("\"a\"\t'b'") == ["a", "b"])
    }

    @Test(
        "a closing quote followed by anything but a space is an error",
        arguments: [#""a"b"#, #"'a'b"#, #"SET "k"v x"#, #""a""b""#]
    )
    func quoteFollowedByNonSpace(line: String) {
        #expect(throws: RESPProtocolError("unbalanced quotes in request")) {
            try Self.split(line)
        }
    }

    @Test("an unterminated quote is an error", arguments: [#""abc"#, "'abc", #""abc\""#, #"'abc\'"#, #""abc\"#, "\""])
    func unterminatedQuote(line: String) {
        #expect(throws: RESPProtocolError("unbalanced quotes in request")) {
            try Self.split(line)
        }
    }

    @Test("bytes that are not ASCII pass through unchanged")
    func nonASCII() throws {
        #expect(try Self.split("SET clé ü\u{1F600}") == [[UInt8]("SET"), [UInt8]("clé"), [UInt8]("ü\u{1F600}")])
    }

    // Checked against redis-server 7.0.15: the inline request `ECHO a\x0Bb` (vertical tab
    // inside a word) replies `$3\r\na\x0Bb\r\n`, one argument. sdssplitargs ends an unquoted word
    // only at ' ', '\n', '\r', '\t' or NUL; isspace() (which includes \v and \f) is used only to skip
    // blanks *between* words.
    // BUG (Sources/SlotgateRESP/InlineCommandSplitter.swift:53 with isSpace at lines 66-68): the
    // word loop also ends a word at \v (0x0B) and \f (0x0C), so `ECHO a\vb` becomes three
    // arguments and Slotgate answers a wrong-arity error where Redis echoes the word.
    @Test("vertical tab and form feed inside a word do not split it (as in Redis)", arguments: ["\u{0B}", "\u{0C}"])
    func verticalTabAndFormFeedInsideWord(separator: String) throws {
        #expect(try Self.words("ECHO a\(separator)b") == ["ECHO", "a\(separator)b"])
    }

    @Test("vertical tab and form feed between words are skipped as blanks")
    func verticalTabAndFormFeedBetweenWords() throws {
        #expect(try Self.words("ECHO \u{0B}\u{0C} a") == ["ECHO", "a"])
    }
}
