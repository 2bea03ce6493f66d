// The two split patterns as scanners: GPT-2's, and Qwen2's (Llama 3's when numbers run up to 3 digits).

extension ScalarText {
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`: end of the piece at i.
    func gpt2(_ i: Int, _ hi: Int) -> Int {
        if s[i] == 0x27, i + 1 < hi {  // '
            switch s[i + 1] {
            case 0x73, 0x74, 0x6D, 0x64:  // s t m d
                return i + 2
            case 0x72, 0x76:  // r v
                if i + 2 < hi && s[i + 2] == 0x65 { return i + 3 }  // e
            case 0x6C:  // l
                if i + 2 < hi && s[i + 2] == 0x6C { return i + 3 }
            default:
                break
            }
        }
        // ` ?X+` for X = \p{L}, \p{N}, [^\s\p{L}\p{N}] in turn: with the space first, then without
        // (which fails after a space, as ' ' is none of them).
        let start = c[i] & kBlank != 0 ? i + 1 : i
        if start < hi {
            let cs = c[start]
            if cs & kLetter != 0 { return run(start, hi, kLetter) }
            if cs & kNumber != 0 { return run(start, hi, kNumber) }
            if cs & kLNS == 0 { return runNot(start, hi, kLNS) }
        }
        if c[i] & kSpace != 0 { return whitespace(i, hi) }
        return i + 1
    }

    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,maxDigits}| ?[^\s\p{L}\p{N}]+[\r\n]*`
    /// `|\s*[\r\n]+|\s+(?!\S)|\s+`: end of the piece at i.
    func qwen2(_ i: Int, _ hi: Int, maxDigits: Int) -> Int {
        if s[i] == 0x27, i + 1 < hi {  // ', then the letters case-insensitively (U+017F long s folds to s)
            switch folded(s[i + 1]) {
            case 0x73, 0x74, 0x6D, 0x64:  // s t m d
                return i + 2
            case 0x72, 0x76:  // r v
                if i + 2 < hi && folded(s[i + 2]) == 0x65 { return i + 3 }
            case 0x6C:  // l
                if i + 2 < hi && folded(s[i + 2]) == 0x6C { return i + 3 }
            default:
                break
            }
        }
        let ci = c[i]
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if ci & (kNewline | kLetter | kNumber) == 0 && i + 1 < hi && c[i + 1] & kLetter != 0 {
            return run(i + 1, hi, kLetter)
        }
        if ci & kLetter != 0 { return run(i, hi, kLetter) }
        // \p{N}{1,maxDigits}
        if ci & kNumber != 0 { return min(run(i, hi, kNumber), i + maxDigits) }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        let start = ci & kBlank != 0 ? i + 1 : i
        if start < hi && c[start] & kLNS == 0 {
            return run(runNot(start, hi, kLNS), hi, kNewline)
        }
        guard ci & kSpace != 0 else { return i + 1 }
        // \s*[\r\n]+ : \s* backtracks to the last \r or \n of the whitespace run.
        let k = run(i, hi, kSpace)
        var p = k - 1
        while p >= i {
            if c[p] & kNewline != 0 { return p + 1 }
            p -= 1
        }
        return whitespace(i, hi)
    }

    /// Simple case folding for the contraction letters: ASCII upper to lower, U+017F (long s) to s.
    @inline(__always)
    private func folded(_ v: UInt32) -> UInt32 {
        if v >= 0x41 && v <= 0x5A { return v + 0x20 }
        return v == 0x17F ? 0x73 : v
    }
}
