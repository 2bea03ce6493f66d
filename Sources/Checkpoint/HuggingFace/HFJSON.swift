// JSON decoding helpers for the Hugging Face files: dynamic keys, integers, and one-line error accounts.
import Foundation

/// A coding key for objects whose keys are data (tensor names).
struct HFJSONKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

/// A one-line account of a decoding error of `data`: where (the JSON key path) and what.
func describeDecodingError(_ error: DecodingError, data: Data) -> String {
    func where_(_ path: [CodingKey]) -> String {
        path.isEmpty ? "top level" : "'" + path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".") + "'"
    }
    switch error {
    case let .keyNotFound(key, ctx):
        return "required key '\(key.stringValue)' is missing at \(where_(ctx.codingPath))"
    case let .typeMismatch(type, ctx):
        let what = ctx.debugDescription.hasSuffix("is not an integer") ? ": " + ctx.debugDescription : ""
        return "\(where_(ctx.codingPath)) has the wrong type (expected \(hfJSONTypeName(type)))" + what
    case let .valueNotFound(type, ctx):
        return "\(where_(ctx.codingPath)) is null (expected \(hfJSONTypeName(type)))"
    case let .dataCorrupted(ctx):
        if ctx.codingPath.isEmpty {
            return "not valid JSON (\(jsonSyntaxError(data) ?? ctx.debugDescription))"
        }
        return "\(where_(ctx.codingPath)): \(ctx.debugDescription)"
    @unknown default:
        return String(describing: error)
    }
}

/// Where and why `data` is not JSON, as Foundation's parser says ("Invalid value around character 8.").
private func jsonSyntaxError(_ data: Data) -> String? {
    do {
        _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        return nil
    } catch {
        return (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
    }
}

/// A JSON-ish name for the Swift type a decoder expected.
func hfJSONTypeName(_ type: Any.Type) -> String {
    switch type {
    case is Int.Type, is Int64.Type, is UInt64.Type: return "an integer"
    case is Double.Type, is Float.Type: return "a number"
    case is String.Type: return "a string"
    case is Bool.Type: return "a boolean"
    default:
        let s = String(describing: type)
        if s.hasPrefix("Array") { return "an array" }
        if s.hasPrefix("Dictionary") { return "an object" }
        return s
    }
}

extension KeyedDecodingContainer {
    /// An integer. Decoded through Double because Foundation reports a fractional number where an Int is
    /// expected as "not valid JSON" with no key path; this way the error names the key.
    func decodeInteger(forKey key: Key) throws -> Int {
        try integer(try asInteger(key) { try decode(Double.self, forKey: key) }, key: key)
    }

    /// An optional integer (absent or null gives nil).
    func decodeIntegerIfPresent(forKey key: Key) throws -> Int? {
        try asInteger(key) { try decodeIfPresent(Double.self, forKey: key) }.map { try integer($0, key: key) }
    }

    /// An array of integers.
    func decodeIntegers(forKey key: Key) throws -> [Int] {
        try asInteger(key) { try decode([Double].self, forKey: key) }.map { try integer($0, key: key) }
    }

    /// Runs `body`, reporting a type mismatch as one against Int (not the Double decoded underneath).
    private func asInteger<T>(_ key: Key, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw DecodingError.typeMismatch(Int.self, .init(codingPath: ctx.codingPath, debugDescription: "not an integer"))
        }
    }

    private func integer(_ v: Double, key: Key) throws -> Int {
        guard v.rounded() == v, abs(v) <= 9_007_199_254_740_992 else {
            throw DecodingError.typeMismatch(Int.self, .init(codingPath: codingPath + [key],
                                                             debugDescription: "\(v) is not an integer"))
        }
        return Int(v)
    }
}
