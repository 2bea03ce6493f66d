// A GGUF metadata value and convenient typed views of it.

/// One metadata value, in the 13 value types GGUF defines (type numbers 0-12, in case order).
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32), float32(Float)
    case bool(Bool), string(String), array([GGUFValue]), uint64(UInt64), int64(Int64), float64(Double)

    /// The value of any integer type as an `Int` (nil for non-integers and for a `uint64` above `Int.max`).
    public var int: Int? {
        switch self {
        case let .uint8(v): return Int(v)
        case let .int8(v): return Int(v)
        case let .uint16(v): return Int(v)
        case let .int16(v): return Int(v)
        case let .uint32(v): return Int(v)
        case let .int32(v): return Int(v)
        case let .uint64(v): return Int(exactly: v)
        case let .int64(v): return Int(v)
        default: return nil
        }
    }

    /// The value of any numeric type (integer or floating point) as a `Double`.
    public var double: Double? {
        switch self {
        case let .float32(v): return Double(v)
        case let .float64(v): return v
        case let .uint64(v): return Double(v)
        default: return int.map(Double.init)
        }
    }

    /// The string, if this is a string.
    public var string: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    /// The elements, if this is an array.
    public var array: [GGUFValue]? {
        if case let .array(a) = self { return a }
        return nil
    }

    /// The elements as strings, if this is an array of strings.
    public var strings: [String]? {
        guard case let .array(a) = self else { return nil }
        var out = [String]()
        out.reserveCapacity(a.count)
        for v in a {
            guard case let .string(s) = v else { return nil }
            out.append(s)
        }
        return out
    }

    /// The elements as `Int`s, if this is an array of integers.
    public var ints: [Int]? {
        guard case let .array(a) = self else { return nil }
        var out = [Int]()
        out.reserveCapacity(a.count)
        for v in a {
            guard let i = v.int else { return nil }
            out.append(i)
        }
        return out
    }

    /// The flag, if this is a bool.
    public var bool: Bool? {
        if case let .bool(b) = self { return b }
        return nil
    }

    /// GGUF's number for this value's type (`gguf_type`): 0 uint8 ... 12 float64.
    public var typeCode: Int {
        switch self {
        case .uint8: return 0
        case .int8: return 1
        case .uint16: return 2
        case .int16: return 3
        case .uint32: return 4
        case .int32: return 5
        case .float32: return 6
        case .bool: return 7
        case .string: return 8
        case .array: return 9
        case .uint64: return 10
        case .int64: return 11
        case .float64: return 12
        }
    }
}
