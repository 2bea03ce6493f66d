// The pre-tokenizers: split patterns by name, applied by handwritten scanners (no regex engine).
//
// A scanner is a function "longest piece the pattern matches at position i" that follows the regex
// alternation order exactly; because every pattern here matches at every position, pieces tile the text.

/// A pre-tokenizer split pattern, by the name BPEModel.preTokenizer carries.
public enum PreTokenizer: String, Sendable, CaseIterable {
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    case gpt2
    /// Every \p{N} on its own (HF `Digits(individual_digits: true)`), then `gpt2` on the rest.
    case smollm
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    case qwen2
    /// `qwen2` with `\p{N}{1,3}`; the BPE model also ignores merges for pieces that are whole tokens.
    case llama3

    /// The split regex as tokenizer.json spells it (for `smollm`: the pattern after the digit split).
    public var pattern: String {
        switch self {
        case .gpt2, .smollm:
            return #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
        case .qwen2:
            return #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        case .llama3:
            return #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        }
    }

    /// The pre-tokenizer a BPEModel names; throws for names Pare does not implement.
    public init(name: String) throws {
        guard let p = PreTokenizer(rawValue: name) else {
            throw TokenizerError.unknownPreTokenizer(name: name, known: PreTokenizer.allCases.map(\.rawValue))
        }
        self = p
    }

    /// The pre-tokenizer a GGUF `tokenizer.ggml.pre` value means (llama.cpp's names).
    public init(ggufName name: String) throws {
        switch name {
        case "gpt2", "gpt-2": self = .gpt2
        case "smollm": self = .smollm
        case "qwen2": self = .qwen2
        case "llama3", "llama-bpe": self = .llama3
        default:
            throw TokenizerError.unknownPreTokenizer(name: name, known: ["gpt-2", "gpt2", "smollm", "qwen2", "llama-bpe", "llama3"])
        }
    }

    /// The pattern classes of a scalar as the scanners see them: `\p{L}`, `\p{N}` and `\s` (Unicode
    /// White_Space), by the Unicode version the reference tokenizer knows (16.0).
    public static func classes(of scalar: Unicode.Scalar) -> (letter: Bool, number: Bool, whitespace: Bool) {
        let c = ScalarClass.of(scalar.value)
        return (c & kLetter != 0, c & kNumber != 0, c & kSpace != 0)
    }

    /// Splits text (no added tokens are recognised here) into the pieces BPE then runs on.
    public func split(_ text: String) -> [String] {
        let bytes = Array(text.utf8)
        var scratch = SplitScratch()
        var pieces: [String] = []
        bytes.withUnsafeBufferPointer { buf in
            split(buf, 0..<buf.count, into: &scratch) { range in
                pieces.append(String(decoding: buf[range], as: UTF8.self))
            }
        }
        return pieces
    }

    /// Splits the UTF-8 text `bytes[range]` and calls `emit` with each piece's byte range, in order.
    func split(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into scratch: inout SplitScratch,
               emit: (Range<Int>) -> Void) {
        scratch.load(bytes, range)
        let n = scratch.scalars.count
        scratch.scalars.withUnsafeBufferPointer { s in
            scratch.classes.withUnsafeBufferPointer { c in
                scratch.offsets.withUnsafeBufferPointer { off in
                    let text = ScalarText(s: s, c: c)
                    func emitScalars(_ lo: Int, _ hi: Int) { emit(off[lo]..<off[hi]) }
                    switch self {
                    case .gpt2:
                        text.scan(0, n, match: text.gpt2, emit: emitScalars)
                    case .smollm:
                        // Digits(individual_digits): each \p{N} is a piece; the text between goes through gpt2.
                        var lo = 0
                        var i = 0
                        while i < n {
                            if c[i] & kNumber != 0 {
                                if lo < i { text.scan(lo, i, match: text.gpt2, emit: emitScalars) }
                                emitScalars(i, i + 1)
                                lo = i + 1
                            }
                            i += 1
                        }
                        if lo < n { text.scan(lo, n, match: text.gpt2, emit: emitScalars) }
                    case .qwen2:
                        text.scan(0, n, match: { i, hi in text.qwen2(i, hi, maxDigits: 1) }, emit: emitScalars)
                    case .llama3:
                        text.scan(0, n, match: { i, hi in text.qwen2(i, hi, maxDigits: 3) }, emit: emitScalars)
                    }
                }
            }
        }
    }
}

/// Reusable buffers for splitting: the scalars of the text, their classes and UTF-8 offsets.
struct SplitScratch {
    /// [n] scalar values.
    var scalars: [UInt32] = []
    /// [n] ScalarClass bits.
    var classes: [UInt8] = []
    /// [n + 1] byte offset of each scalar in the original buffer, then the end.
    var offsets: [Int] = []

    /// Decodes the (valid) UTF-8 in `bytes[range]`.
    mutating func load(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        scalars.removeAll(keepingCapacity: true)
        classes.removeAll(keepingCapacity: true)
        offsets.removeAll(keepingCapacity: true)
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            let b0 = UInt32(bytes[i])
            var v: UInt32
            var len: Int
            if b0 < 0x80 {
                v = b0; len = 1
            } else if b0 < 0xE0 {
                v = b0 & 0x1F; len = 2
            } else if b0 < 0xF0 {
                v = b0 & 0x0F; len = 3
            } else {
                v = b0 & 0x07; len = 4
            }
            len = min(len, end - i)
            var k = 1
            while k < len { v = (v << 6) | (UInt32(bytes[i + k]) & 0x3F); k += 1 }
            scalars.append(v)
            classes.append(ScalarClass.of(v))
            offsets.append(i)
            i += len
        }
        offsets.append(end)
    }
}

/// A text as scalars with classes; the scanners read it.
struct ScalarText {
    let s: UnsafeBufferPointer<UInt32>
    let c: UnsafeBufferPointer<UInt8>

    /// Tiles [lo, hi) with the pieces `match` finds (each `match(i, hi) > i`).
    @inline(__always)
    func scan(_ lo: Int, _ hi: Int, match: (Int, Int) -> Int, emit: (Int, Int) -> Void) {
        var i = lo
        while i < hi {
            let j = max(i + 1, match(i, hi))
            emit(i, j)
            i = j
        }
    }

    /// End of the run of scalars having any bit of `bits`, starting at i.
    @inline(__always)
    func run(_ i: Int, _ hi: Int, _ bits: UInt8) -> Int {
        var j = i
        while j < hi && c[j] & bits != 0 { j += 1 }
        return j
    }

    /// End of the run of scalars having none of `bits` ([^...]), starting at i.
    @inline(__always)
    func runNot(_ i: Int, _ hi: Int, _ bits: UInt8) -> Int {
        var j = i
        while j < hi && c[j] & bits == 0 { j += 1 }
        return j
    }

    /// `\s+(?!\S)|\s+` at i (a whitespace scalar): the whole run at the end of the text, else all but
    /// its last scalar (which then starts the next piece), else the single scalar.
    @inline(__always)
    func whitespace(_ i: Int, _ hi: Int) -> Int {
        let k = run(i, hi, kSpace)
        if k == hi { return hi }
        return k - i >= 2 ? k - 1 : i + 1
    }
}
