// GPT-2's byte-to-unicode mapping: every byte as a printable character, so byte strings are token strings.
//
// Bytes '!'...'~', '¡'...'¬' and '®'...'ÿ' stand for themselves; the other 68 bytes, in increasing
// order, become U+0100, U+0101, ... (so space 0x20 is 'Ġ' U+0120 and newline 0x0A is 'Ċ' U+010A).

/// The byte-level alphabet of byte-level BPE vocabularies.
public enum ByteLevel {
    /// byte -> Unicode scalar value of its character. [256]
    static let byteToScalar: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var extra: UInt32 = 0
        for b in 0..<256 {
            if (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b) {
                table[b] = UInt32(b)
            } else {
                table[b] = 256 + extra
                extra += 1
            }
        }
        return table
    }()

    /// scalar value -> byte, for scalars below 0x144 (the largest mapped value); -1 where unmapped. [0x144]
    static let scalarToByte: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (b, s) in byteToScalar.enumerated() { table[Int(s)] = Int16(b) }
        return table
    }()

    /// The byte a character of a byte-level token stands for, if it is one of the 256 alphabet characters.
    @inline(__always)
    static func byte(of scalar: UInt32) -> UInt8? {
        guard scalar < 0x144 else { return nil }
        let b = scalarToByte[Int(scalar)]
        return b < 0 ? nil : UInt8(b)
    }

    /// Text as a byte-level token string: each UTF-8 byte of `text` as its alphabet character.
    public static func encode(_ text: String) -> String {
        encode(bytes: Array(text.utf8))
    }

    /// Bytes as a byte-level token string.
    public static func encode<C: Collection>(bytes: C) -> String where C.Element == UInt8 {
        var out = String.UnicodeScalarView()
        for b in bytes { out.append(Unicode.Scalar(byteToScalar[Int(b)])!) }
        return String(out)
    }

    /// The bytes a byte-level token string stands for, or nil if a character is outside the alphabet.
    public static func decode(_ token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.utf8.count)
        for u in token.unicodeScalars {
            guard let b = byte(of: u.value) else { return nil }
            out.append(b)
        }
        return out
    }
}
