// Attributes: the typed constants carried by ops (`{eps = 1e-06, heads = 14}`).

/// A typed attribute value. Printed in a form the parser reads back exactly.
public enum Attribute: Sendable, Hashable, CustomStringConvertible {
    case int(Int)
    /// Printed with Swift's shortest round-trip representation, so text round-trips bit-exactly.
    case float(Double)
    case string(String)
    case bool(Bool)

    public var description: String {
        switch self {
        case .int(let v): return String(v)
        case .float(let v):
            let s = String(v)
            return s.contains(".") || s.contains("e") || s.contains("inf") || s.contains("nan") ? s : s + ".0"
        case .string(let v): return quoteIRString(v)
        case .bool(let v): return v ? "true" : "false"
        }
    }

    public var intValue: Int? { if case .int(let v) = self { return v }; return nil }
    public var doubleValue: Double? {
        switch self {
        case .float(let v): return v
        case .int(let v): return Double(v)
        default: return nil
        }
    }
    public var stringValue: String? { if case .string(let v) = self { return v }; return nil }
    public var boolValue: Bool? { if case .bool(let v) = self { return v }; return nil }
}

/// Quotes a string for IR text: `"..."` with `\"`, `\\`, `\n`, `\t` and `\u{XX}` escapes for control characters.
public func quoteIRString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7f {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}
