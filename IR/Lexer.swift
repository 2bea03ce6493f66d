// The lexer for IR text: turns UTF-8 bytes into located tokens for the parser.
import Foundation

/// One token of IR text.
enum IRToken: Equatable {
    /// A bare word: keywords, op names, keys, encodings (`module`, `rms_norm`, `source.format`, `q4_k`).
    case identifier(String)
    /// `@name` or `@"name"`.
    case symbol(String)
    /// `%name` or `%"name"`.
    case value(String)
    case string(String)
    case integer(Int)
    case float(Double)
    /// `tensor<...>`: the text between the angle brackets (it starts 7 columns after the token).
    case tensorType(String)
    /// One of `{ } ( ) [ ] , : = | .. ->`.
    case punct(String)
    case eof

    /// How the token is named in "expected X, found Y" messages.
    var display: String {
        switch self {
        case .identifier(let s): return "'\(s)'"
        case .symbol(let s): return "symbol @\(spellName(s))"
        case .value(let s): return "value %\(spellName(s))"
        case .string(let s): return "string \(quoteIRString(s))"
        case .integer(let i): return "integer \(i)"
        case .float(let d): return "number \(Attribute.float(d))"
        case .tensorType(let s): return "type tensor<\(s)>"
        case .punct(let s): return "'\(s)'"
        case .eof: return "end of file"
        }
    }
}

/// A token and where it starts.
struct LocatedToken {
    var token: IRToken
    var line: Int
    var column: Int
}

/// Splits IR text into tokens on demand. Columns count UTF-8 bytes from 1.
struct IRLexer {
    let bytes: [UInt8]
    let file: String
    private var pos = 0
    private var line = 1
    private var lineStart = 0

    init(_ text: String, file: String) {
        bytes = Array(text.utf8)
        self.file = file
    }

    private func peek(_ k: Int = 0) -> UInt8? { pos + k < bytes.count ? bytes[pos + k] : nil }

    private func error(_ kind: IRParseError.Kind, _ msg: String, line: Int, column: Int) -> IRParseError {
        IRParseError(kind, msg, at: SourceLocation(file: file, line: line, column: column))
    }

    /// Skips spaces, newlines and `//` comments; checks a `// pare ir vN` header's version.
    private mutating func skipTrivia() throws {
        while let b = peek() {
            if b == 0x0A {
                pos += 1
                line += 1
                lineStart = pos
            } else if b == 0x20 || b == 0x09 || b == 0x0D {
                pos += 1
            } else if b == 0x2F, peek(1) == 0x2F {
                let start = pos
                while let c = peek(), c != 0x0A { pos += 1 }
                let comment = String(decoding: bytes[start..<pos], as: UTF8.self)
                let prefix = "// pare ir v"
                if comment.hasPrefix(prefix) {
                    let version = comment.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)
                    if version != "1" {
                        throw error(.unsupportedVersion,
                                    "unsupported IR text version 'v\(version)'; this Pare reads '\(irTextHeader)'",
                                    line: line, column: start - lineStart + 1)
                    }
                }
            } else {
                return
            }
        }
    }

    /// The next token.
    mutating func next() throws -> LocatedToken {
        try skipTrivia()
        let tokLine = line, tokCol = pos - lineStart + 1
        func tok(_ t: IRToken) -> LocatedToken { LocatedToken(token: t, line: tokLine, column: tokCol) }
        guard let b = peek() else { return tok(.eof) }

        switch b {
        case UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "["),
             UInt8(ascii: "]"), UInt8(ascii: ","), UInt8(ascii: ":"), UInt8(ascii: "="), UInt8(ascii: "|"):
            pos += 1
            return tok(.punct(String(UnicodeScalar(b))))
        case UInt8(ascii: "."):
            if peek(1) == UInt8(ascii: ".") {
                pos += 2
                return tok(.punct(".."))
            }
        case UInt8(ascii: "-"):
            if peek(1) == UInt8(ascii: ">") {
                pos += 2
                return tok(.punct("->"))
            }
            if let c = peek(1), c >= 0x30 && c <= 0x39 { return try number(tok) }
            if let c = peek(1), isIdentifierStart(c) {
                pos += 1
                let word = identifierText()
                if let d = specialFloat(word) { return tok(.float(-d)) }
                throw error(.badLiteral, "expected a number after '-', found '-\(word)'", line: tokLine, column: tokCol)
            }
        case UInt8(ascii: "\""):
            return tok(.string(try string()))
        case UInt8(ascii: "@"), UInt8(ascii: "%"):
            pos += 1
            let name: String
            if peek() == UInt8(ascii: "\"") {
                name = try string()
            } else {
                let start = pos
                while let c = peek(), isNameByte(c) { pos += 1 }
                name = String(decoding: bytes[start..<pos], as: UTF8.self)
                if name.isEmpty {
                    throw error(.unexpectedToken,
                                "expected a name after '\(UnicodeScalar(b))' (letters, digits, '_', '.', '-', or a quoted string)",
                                line: tokLine, column: tokCol)
                }
            }
            return tok(b == UInt8(ascii: "@") ? .symbol(name) : .value(name))
        default:
            if b >= 0x30 && b <= 0x39 { return try number(tok) }
            if isIdentifierStart(b) {
                let word = identifierText()
                if word == "tensor", peek() == UInt8(ascii: "<") {
                    pos += 1
                    let start = pos
                    while let c = peek(), c != UInt8(ascii: ">"), c != 0x0A { pos += 1 }
                    guard peek() == UInt8(ascii: ">") else {
                        throw error(.badType, "unterminated tensor type: expected '>'", line: tokLine, column: tokCol)
                    }
                    let body = String(decoding: bytes[start..<pos], as: UTF8.self)
                    pos += 1
                    return tok(.tensorType(body))
                }
                return tok(.identifier(word))
            }
        }
        let scalar = String(decoding: bytes[pos..<min(bytes.count, pos + utf8Length(b))], as: UTF8.self)
        throw error(.unexpectedToken, "unexpected character '\(scalar)'", line: tokLine, column: tokCol)
    }

    private func utf8Length(_ lead: UInt8) -> Int {
        lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
    }

    private func specialFloat(_ word: String) -> Double? {
        ["inf", "nan", "snan"].contains(word) ? Double(word) : nil
    }

    private mutating func identifierText() -> String {
        let start = pos
        while let c = peek(), isNameByte(c) { pos += 1 }
        return String(decoding: bytes[start..<pos], as: UTF8.self)
    }

    /// `-?digits(.digits)?([eE][+-]?digits)?`; a `.` followed by `.` ends the number (`0..255`).
    private mutating func number(_ tok: (IRToken) -> LocatedToken) throws -> LocatedToken {
        let start = pos
        let startCol = pos - lineStart + 1
        var isFloat = false
        if peek() == UInt8(ascii: "-") { pos += 1 }
        func digits() { while let c = peek(), c >= 0x30 && c <= 0x39 { pos += 1 } }
        digits()
        if peek() == UInt8(ascii: "."), let c = peek(1), c >= 0x30 && c <= 0x39 {
            isFloat = true
            pos += 1
            digits()
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            var k = 1
            if let s = peek(1), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { k = 2 }
            if let c = peek(k), c >= 0x30 && c <= 0x39 {
                isFloat = true
                pos += k
                digits()
            }
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        if let c = peek(), isIdentifierStart(c) {
            throw error(.badLiteral, "malformed number '\(text)\(UnicodeScalar(c))...'", line: line, column: startCol)
        }
        if isFloat {
            guard let d = Double(text) else {
                throw error(.badLiteral, "malformed number '\(text)'", line: line, column: startCol)
            }
            return tok(.float(d))
        }
        guard let i = Int(text) else {
            throw error(.badLiteral, "integer literal \(text) is out of range", line: line, column: startCol)
        }
        return tok(.integer(i))
    }

    /// A `"..."` literal with `\"`, `\\`, `\n`, `\t`, `\r` and `\u{X...}` escapes; the cursor is on the opening quote.
    private mutating func string() throws -> String {
        let startLine = line, startCol = pos - lineStart + 1
        pos += 1
        var out: [UInt8] = []
        while true {
            guard let c = peek(), c != 0x0A else {
                throw error(.unterminatedString, "unterminated string literal: expected '\"' before the end of the line",
                            line: startLine, column: startCol)
            }
            pos += 1
            if c == UInt8(ascii: "\"") { break }
            if c != UInt8(ascii: "\\") {
                out.append(c)
                continue
            }
            let escCol = pos - lineStart
            guard let e = peek() else { continue }
            pos += 1
            switch e {
            case UInt8(ascii: "\""): out.append(e)
            case UInt8(ascii: "\\"): out.append(e)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "u"):
                guard peek() == UInt8(ascii: "{") else {
                    throw error(.badLiteral, "bad escape: expected '{' after '\\u'", line: line, column: escCol)
                }
                pos += 1
                let hexStart = pos
                while let h = peek(), h != UInt8(ascii: "}"), h != 0x0A, h != UInt8(ascii: "\"") { pos += 1 }
                let hex = String(decoding: bytes[hexStart..<pos], as: UTF8.self)
                guard peek() == UInt8(ascii: "}"), hex.count <= 6, let v = UInt32(hex, radix: 16), let scalar = UnicodeScalar(v) else {
                    let shown = "\\u{" + hex + (peek() == UInt8(ascii: "}") ? "}" : "")
                    throw error(.badLiteral, "bad escape '\(shown)': expected 1 to 6 hex digits naming a Unicode scalar and '}'",
                                line: line, column: escCol)
                }
                pos += 1
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                throw error(.badLiteral,
                            "unknown escape '\\\(UnicodeScalar(e))' in string; use \\\", \\\\, \\n, \\t, \\r or \\u{XX}",
                            line: line, column: escCol)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
