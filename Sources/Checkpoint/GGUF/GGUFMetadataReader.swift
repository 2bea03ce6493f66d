// Parses GGUF metadata values (all 13 value types, arrays of any of them, nested arrays).

extension GGUFCursor {
    /// Smallest encoding of one value of GGUF value type `type`, or nil for an unknown type.
    static func minimumSize(ofValueType type: UInt32) -> Int? {
        switch type {
        case 0, 1, 7: return 1          // uint8, int8, bool
        case 2, 3: return 2             // uint16, int16
        case 4, 5, 6: return 4          // uint32, int32, float32
        case 8: return 8                // string: u64 length
        case 9: return 12               // array: u32 type + u64 count
        case 10, 11, 12: return 8       // uint64, int64, float64
        default: return nil
        }
    }

    /// Arrays nest at most this deep; deeper nesting is rejected before it can exhaust the stack.
    static let maximumArrayDepth = 16

    /// Reads one value of GGUF value type `type` for metadata key `key`.
    mutating func value(type: UInt32, key: String, depth: Int = 0) throws -> GGUFValue {
        let what = "the value of metadata key '\(key)'"
        switch type {
        case 0: return .uint8(try u8(what))
        case 1: return .int8(Int8(bitPattern: try u8(what)))
        case 2: return .uint16(try u16(what))
        case 3: return .int16(Int16(bitPattern: try u16(what)))
        case 4: return .uint32(try u32(what))
        case 5: return .int32(Int32(bitPattern: try u32(what)))
        case 6: return .float32(Float(bitPattern: try u32(what)))
        case 7: return .bool(try u8(what) != 0)
        case 8: return .string(try string(what))
        case 9: return try array(key: key, depth: depth)
        case 10: return .uint64(try u64(what))
        case 11: return .int64(Int64(bitPattern: try u64(what)))
        case 12: return .float64(Double(bitPattern: try u64(what)))
        default: throw CheckpointError.unknownValueType(path: path, key: key, type: Int(type))
        }
    }

    /// An array: `u32` element type, `u64` count, then the elements back to back.
    private mutating func array(key: String, depth: Int) throws -> GGUFValue {
        let what = "the array value of metadata key '\(key)'"
        guard depth < Self.maximumArrayDepth else {
            throw CheckpointError.malformed(path: path, detail: "metadata key '\(key)' nests arrays more than \(Self.maximumArrayDepth) deep")
        }
        let elementType = try u32(what)
        guard let unit = Self.minimumSize(ofValueType: elementType) else {
            throw CheckpointError.unknownValueType(path: path, key: key, type: Int(elementType))
        }
        let n = try count(unit: unit, what)
        var out = [GGUFValue]()
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try value(type: elementType, key: key, depth: depth + 1)) }
        return .array(out)
    }
}
