// A parsed JSON value and a cursor that reads it with typed errors naming the file and the JSON path.

/// A JSON value. Objects keep their members in file order (duplicate keys included).
enum JSONValue {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    /// The JSON type's name, for messages.
    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// A value at a path (`$.model.vocab`) in a file; typed accessors throw `TokenizerError.malformed`.
struct JSONCursor {
    let value: JSONValue
    let path: String
    let file: String

    func fail(_ reason: String) -> TokenizerError { .malformed(file: file, path: path, reason: reason) }

    /// The member `key` of an object, nil if absent or null; throws if this is not an object.
    func field(_ key: String) throws -> JSONCursor? {
        guard case let .object(members) = value else { throw fail("expected an object, found \(value.typeName)") }
        guard let v = members.first(where: { $0.key == key })?.value else { return nil }
        if case .null = v { return nil }
        return JSONCursor(value: v, path: path + "." + key, file: file)
    }

    /// The member `key`, which must be present and not null.
    func require(_ key: String) throws -> JSONCursor {
        guard let c = try field(key) else {
            throw TokenizerError.malformed(file: file, path: path + "." + key, reason: "missing")
        }
        return c
    }

    func object() throws -> [(key: String, value: JSONValue)] {
        guard case let .object(members) = value else { throw fail("expected an object, found \(value.typeName)") }
        return members
    }

    func array() throws -> [JSONValue] {
        guard case let .array(items) = value else { throw fail("expected an array, found \(value.typeName)") }
        return items
    }

    /// The items of an array as cursors with their paths.
    func items() throws -> [JSONCursor] {
        try array().enumerated().map { JSONCursor(value: $1, path: "\(path)[\($0)]", file: file) }
    }

    func string() throws -> String {
        guard case let .string(s) = value else { throw fail("expected a string, found \(value.typeName)") }
        return s
    }

    func bool() throws -> Bool {
        guard case let .bool(b) = value else { throw fail("expected a boolean, found \(value.typeName)") }
        return b
    }

    /// A non-negative integer below 2^31.
    func index() throws -> Int {
        guard case let .number(d) = value, d >= 0, d < 2_147_483_648, d.rounded() == d else {
            throw fail("expected a non-negative integer, found \(describe(value))")
        }
        return Int(d)
    }

    /// The optional member `key` as a string, with `default` when absent or null.
    func string(_ key: String, default d: String) throws -> String { try field(key)?.string() ?? d }
    /// The optional member `key` as a boolean, with `default` when absent or null.
    func bool(_ key: String, default d: Bool) throws -> Bool { try field(key)?.bool() ?? d }
}

/// A short rendering of a value for messages.
func describe(_ v: JSONValue) -> String {
    switch v {
    case .null: return "null"
    case let .bool(b): return String(b)
    case let .number(d): return d.rounded() == d && abs(d) < 1e15 ? String(Int(d)) : String(d)
    case let .string(s): return quoted(s.count > 200 ? String(s.prefix(200)) + "..." : s)
    case .array, .object: return v.typeName
    }
}
