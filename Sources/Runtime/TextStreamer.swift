// Streaming detokenization: ids in, complete UTF-8 text out as soon as each character is whole.
import PareTokenizer

/// Incremental detokenizer: feed ids, get the text that is complete UTF-8 so far. A token can end in the middle
/// of a character; its bytes wait for the next token. Everything pushed plus `finish()` equals
/// `tokenizer.decode(ids)` (invalid bytes become U+FFFD the same way).
public struct TextStreamer {
    private let tokenizer: BPETokenizer
    /// Bytes of an incomplete character at the end of what was pushed (at most 3).
    private var pending: [UInt8] = []

    /// A streamer over `tokenizer`'s tokens.
    public init(tokenizer: BPETokenizer) { self.tokenizer = tokenizer }

    /// The text that id completes (possibly empty). Ids out of range add nothing, as in `decode`.
    public mutating func push(_ id: Int) -> String {
        guard let token = tokenizer.tokenString(id) else { return "" }
        // A token of byte-alphabet characters stands for those bytes; any other (an added token) for its UTF-8.
        pending += ByteLevel.decode(token) ?? Array(token.utf8)
        let cut = Self.completePrefix(pending)
        guard cut > 0 else { return "" }
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// The rest: bytes of an unfinished character, as U+FFFD. Resets the streamer.
    public mutating func finish() -> String {
        let text = String(decoding: pending, as: UTF8.self)
        pending.removeAll()
        return text
    }

    /// The length of the longest prefix that does not end inside a UTF-8 sequence that more bytes could complete.
    /// The cut is always before a non-continuation byte, where a decoder starts a new sequence anyway, so decoding
    /// the parts separately gives the same text as decoding them together.
    static func completePrefix(_ b: [UInt8]) -> Int {
        let n = b.count
        var i = n - 1, continuation = 0
        while i >= 0, continuation < 4, b[i] & 0xC0 == 0x80 {
            i -= 1
            continuation += 1
        }
        guard i >= 0, continuation < 4 else { return n }
        let need: Int
        switch b[i] {
        case 0xC2...0xDF: need = 2
        case 0xE0...0xEF: need = 3
        case 0xF0...0xF4: need = 4
        default: return n
        }
        return n - i < need ? i : n
    }
}
