// Character classes the split patterns use: \p{L}, \p{N}, \s (Unicode White_Space), [\r\n] and ' '.
//
// \s is Oniguruma's Unicode \s (what Hugging Face tokenizers compiles its patterns with): U+0009...U+000D,
// U+0085 and the categories Zs, Zl, Zp; that set is exactly the White_Space property.
// Oniguruma in tokenizers 0.23 knows Unicode 16.0; the Swift runtime may know a later version, so scalars
// assigned after 16.0 count as unassigned (neither letter nor number), as they do for the reference.

/// Bit flags classifying one Unicode scalar for the pre-tokenizer scanners.
struct ScalarClass: OptionSet {
    let rawValue: UInt8
    /// \p{L}: Lu, Ll, Lt, Lm, Lo.
    static let letter = ScalarClass(rawValue: 1)
    /// \p{N}: Nd, Nl, No.
    static let number = ScalarClass(rawValue: 2)
    /// \s: White_Space.
    static let space = ScalarClass(rawValue: 4)
    /// [\r\n].
    static let newline = ScalarClass(rawValue: 8)
    /// The ASCII space U+0020 (the literal ' ' of the patterns).
    static let blank = ScalarClass(rawValue: 16)

    /// The class of a scalar value.
    @inline(__always)
    static func of(_ v: UInt32) -> UInt8 {
        v < 128 ? ascii[Int(v)] : nonASCII(v)
    }

    static let ascii: [UInt8] = (0..<128).map { nonASCII(UInt32($0)) }

    static func nonASCII(_ v: UInt32) -> UInt8 {
        guard let scalar = Unicode.Scalar(v) else { return 0 }
        let p = scalar.properties
        var c: ScalarClass = []
        if p.isWhitespace { c.insert(.space) }
        if v == 0x0A || v == 0x0D { c.insert(.newline) }
        if v == 0x20 { c.insert(.blank) }
        if let age = p.age, age.major > unicodeMajor || (age.major == unicodeMajor && age.minor > unicodeMinor) {
            return c.rawValue
        }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            c.insert(.letter)
        case .decimalNumber, .letterNumber, .otherNumber:
            c.insert(.number)
        default:
            break
        }
        return c.rawValue
    }
}

/// The Unicode version of the reference's character classes (Oniguruma in Hugging Face tokenizers 0.23).
let unicodeMajor = 16, unicodeMinor = 0

/// Class bits as plain constants for the scanners' hot loops.
let kLetter: UInt8 = 1, kNumber: UInt8 = 2, kSpace: UInt8 = 4, kNewline: UInt8 = 8, kBlank: UInt8 = 16
/// [^\s\p{L}\p{N}]: none of these bits.
let kLNS: UInt8 = kLetter | kNumber | kSpace
