// A small, fast JSON parser over bytes (tokenizer.json files reach 11 MB and 300k strings).

/// Parses RFC 8259 JSON into a JSONValue; errors give the file, line and column.
struct JSONParser {
    private let b: UnsafeBufferPointer<UInt8>
    private var i = 0
    private let file: String
    private var depth = 0
    private var scratch: [UInt8] = []

    /// Parses a whole document.
    static func parse(_ bytes: [UInt8], file: String) throws -> JSONValue {
        try bytes.withUnsafeBufferPointer { buf in
            var p = JSONParser(b: buf, file: file)
            // A UTF-8 byte order mark is tolerated, as most readers do.
            if buf.count >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF { p.i = 3 }
            let v = try p.value()
            p.skipSpace()
            if p.i < buf.count { throw p.error("unexpected data after the top-level value") }
            return v
        }
    }

    private init(b: UnsafeBufferPointer<UInt8>, file: String) {
        self.b = b
        self.file = file
    }

    private func error(_ reason: String, at offset: Int? = nil) -> TokenizerError {
        let end = min(offset ?? i, b.count)
        var line = 1
        var column = 1
        for k in 0..<end {
            if b[k] == 0x0A { line += 1; column = 1 } else if b[k] & 0xC0 != 0x80 { column += 1 }
        }
        return .invalidJSON(file: file, line: line, column: column, reason: reason)
    }

    @inline(__always)
    private mutating func skipSpace() {
        while i < b.count {
            let c = b[i]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 } else { break }
        }
    }

    private mutating func value() throws -> JSONValue {
        skipSpace()
        guard i < b.count else { throw error("unexpected end of file") }
        switch b[i] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw error("unexpected character '\(Unicode.Scalar(b[i]))'")
        }
    }

    private mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        guard i + n <= b.count else { throw error("unexpected end of file") }
        for k in 0..<n where b[i + k] != word.utf8Start[k] { throw error("invalid literal") }
        i += n
    }

    private mutating func nest() throws {
        depth += 1
        if depth > 512 { throw error("nested more than 512 levels deep") }
    }

    private mutating func object() throws -> JSONValue {
        try nest()
        i += 1
        var members: [(key: String, value: JSONValue)] = []
        skipSpace()
        if i < b.count && b[i] == UInt8(ascii: "}") { i += 1; depth -= 1; return .object(members) }
        while true {
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try string()
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: ":") else { throw error("expected ':'") }
            i += 1
            members.append((key, try value()))
            skipSpace()
            guard i < b.count else { throw error("unexpected end of file in an object") }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "}") { i += 1; break }
            throw error("expected ',' or '}'")
        }
        depth -= 1
        return .object(members)
    }

    private mutating func array() throws -> JSONValue {
        try nest()
        i += 1
        var items: [JSONValue] = []
        skipSpace()
        if i < b.count && b[i] == UInt8(ascii: "]") { i += 1; depth -= 1; return .array(items) }
        while true {
            items.append(try value())
            skipSpace()
            guard i < b.count else { throw error("unexpected end of file in an array") }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "]") { i += 1; break }
            throw error("expected ',' or ']'")
        }
        depth -= 1
        return .array(items)
    }

    private mutating func string() throws -> String {
        let open = i
        i += 1
        let start = i
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c < 0x20 { break }
            i += 1
        }
        guard i < b.count else { throw error("unterminated string", at: open) }
        if b[i] == UInt8(ascii: "\"") {
            i += 1
            guard let s = String(validating: UnsafeBufferPointer(rebasing: b[start..<(i - 1)]), as: UTF8.self) else {
                throw error("string is not valid UTF-8", at: open)
            }
            return s
        }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: b[start..<i]))
        while true {
            guard i < b.count else { throw error("unterminated string", at: open) }
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; break }
            if c < 0x20 { throw error("control character in a string") }
            if c != UInt8(ascii: "\\") { scratch.append(c); i += 1; continue }
            guard i + 1 < b.count else { throw error("unterminated string", at: open) }
            let e = b[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(e)
            case UInt8(ascii: "b"): scratch.append(0x08)
            case UInt8(ascii: "f"): scratch.append(0x0C)
            case UInt8(ascii: "n"): scratch.append(0x0A)
            case UInt8(ascii: "r"): scratch.append(0x0D)
            case UInt8(ascii: "t"): scratch.append(0x09)
            case UInt8(ascii: "u"):
                var v = try hex4()
                if (0xD800..<0xDC00).contains(v) {
                    guard i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else {
                        throw error("unpaired surrogate \\u\(String(v, radix: 16))")
                    }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate \\u\(String(v, radix: 16))") }
                    v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(v) {
                    throw error("unpaired surrogate \\u\(String(v, radix: 16))")
                }
                guard let u = Unicode.Scalar(v) else { throw error("invalid escape") }
                scratch.append(contentsOf: Array(String(u).utf8))
            default:
                throw error("invalid escape '\\\(Unicode.Scalar(e))'")
            }
        }
        guard let s = String(validating: scratch, as: UTF8.self) else { throw error("string is not valid UTF-8", at: open) }
        return s
    }

    private mutating func hex4() throws -> UInt32 {
        guard i + 4 <= b.count else { throw error("unexpected end of file in \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape")
            }
            v = v << 4 | UInt32(d)
            i += 1
        }
        return v
    }

    private mutating func number() throws -> Double {
        let start = i
        if b[i] == UInt8(ascii: "-") { i += 1 }
        var integer: Int64 = 0
        var digits = 0
        while i < b.count, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") {
            if digits < 18 { integer = integer * 10 + Int64(b[i] - UInt8(ascii: "0")) }
            digits += 1
            i += 1
        }
        guard digits > 0 else { throw error("invalid number") }
        if digits > 1 && b[start + (b[start] == UInt8(ascii: "-") ? 1 : 0)] == UInt8(ascii: "0") {
            throw error("invalid number (leading zero)", at: start)
        }
        var simple = digits <= 18
        if i < b.count && b[i] == UInt8(ascii: ".") {
            simple = false
            i += 1
            let f = i
            while i < b.count, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") { i += 1 }
            guard i > f else { throw error("invalid number") }
        }
        if i < b.count && (b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E")) {
            simple = false
            i += 1
            if i < b.count && (b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-")) { i += 1 }
            let e = i
            while i < b.count, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") { i += 1 }
            guard i > e else { throw error("invalid number") }
        }
        if simple { return Double(b[start] == UInt8(ascii: "-") ? -integer : integer) }
        guard let d = Double(String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)) else {
            throw error("invalid number", at: start)
        }
        return d
    }
}
