// Finds added tokens (control and user-defined) in raw text: leftmost match first, longest at that position.
//
// A byte trie over the tokens' UTF-8. Token texts are whole UTF-8 sequences, so matches begin and end
// on character boundaries, and leftmost-longest over bytes equals leftmost-longest over characters.

/// The added tokens of a vocabulary as a trie, for splitting text before pre-tokenization.
struct AddedTokenMatcher: Sendable {
    /// Trie nodes: children as (byte, node) pairs sorted by byte, and the token id ending here (-1 if none).
    private var children: [[(UInt8, Int32)]] = [[]]
    private var terminal: [Int32] = [-1]
    /// Bytes that start some token, to skip quickly over ordinary text. [256]
    private var starts = [Bool](repeating: false, count: 256)

    /// No tokens to match.
    var isEmpty: Bool { terminal.count == 1 }

    /// Adds a token's text; an empty text never matches. A later duplicate keeps the first id.
    mutating func insert(_ text: String, id: Int) {
        let bytes = Array(text.utf8)
        guard let first = bytes.first else { return }
        starts[Int(first)] = true
        var node = 0
        for b in bytes {
            if let next = children[node].first(where: { $0.0 == b })?.1 {
                node = Int(next)
            } else {
                children.append([])
                terminal.append(-1)
                let next = Int32(terminal.count - 1)
                children[node].append((b, next))
                children[node].sort { $0.0 < $1.0 }
                node = Int(next)
            }
        }
        if terminal[node] < 0 { terminal[node] = Int32(id) }
    }

    /// The longest token starting at `i` in `bytes[..<end]`: its id and end, if any.
    @inline(__always)
    func longest(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int, end: Int) -> (id: Int, end: Int)? {
        guard starts[Int(bytes[i])] else { return nil }
        var node = 0
        var best: (id: Int, end: Int)?
        var j = i
        while j < end {
            let b = bytes[j]
            guard let next = children[node].first(where: { $0.0 == b })?.1 else { break }
            node = Int(next)
            j += 1
            if terminal[node] >= 0 { best = (Int(terminal[node]), j) }
        }
        return best
    }

    /// Splits `bytes` into text runs and added tokens, in order: `text(range)` for the runs between
    /// tokens (never empty), `token(id)` for each token found.
    func split(_ bytes: UnsafeBufferPointer<UInt8>, text: (Range<Int>) -> Void, token: (Int) -> Void) {
        let n = bytes.count
        var lo = 0
        var i = 0
        if !isEmpty {
            while i < n {
                if let m = longest(bytes, at: i, end: n) {
                    if lo < i { text(lo..<i) }
                    token(m.id)
                    i = m.end
                    lo = i
                } else {
                    i += 1
                }
            }
        }
        if lo < n { text(lo..<n) }
    }
}
