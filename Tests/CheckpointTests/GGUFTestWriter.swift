// A tiny GGUF writer for tests: builds valid files and deliberately broken ones byte by byte.
import PareCheckpoint

/// Builds GGUF bytes: header, metadata, tensor infos, aligned data. Every field can be overridden to
/// make a broken file.
struct GGUFTestWriter {
    /// A metadata pair: a typed value, or a raw type number and payload (for unknown types).
    enum Entry {
        case value(String, GGUFValue)
        case raw(String, type: UInt32, payload: [UInt8])
    }

    /// One tensor: `ne` innermost first, its ggml type number and data bytes; `offset` nil = next aligned.
    struct Tensor {
        var name: String
        var ne: [UInt64]
        var type: UInt32
        var data: [UInt8]
        var offset: UInt64? = nil
        var nDims: UInt32? = nil
    }

    var magic: [UInt8] = Array("GGUF".utf8)
    var version: UInt32 = 3
    var entries: [Entry] = []
    var tensors: [Tensor] = []
    var alignment = 32
    /// Overrides the counts written in the header.
    var tensorCountOverride: UInt64? = nil
    var kvCountOverride: UInt64? = nil

    func bytes() -> [UInt8] {
        var b = magic
        b.le(version)
        b.le(tensorCountOverride ?? UInt64(tensors.count))
        b.le(kvCountOverride ?? UInt64(entries.count))
        for e in entries {
            switch e {
            case let .value(k, v):
                b.ggufString(k)
                b.le(UInt32(v.typeCode))
                b.ggufValue(v)
            case let .raw(k, type, payload):
                b.ggufString(k)
                b.le(type)
                b += payload
            }
        }
        var next: UInt64 = 0
        var offsets = [UInt64]()
        for t in tensors {
            let o = t.offset ?? next
            offsets.append(o)
            next = (o &+ UInt64(t.data.count) &+ UInt64(alignment) - 1) / UInt64(alignment) * UInt64(alignment)
            b.ggufString(t.name)
            b.le(t.nDims ?? UInt32(t.ne.count))
            for n in t.ne { b.le(n) }
            b.le(t.type)
            b.le(o)
        }
        while b.count % alignment != 0 { b.append(0) }
        let dataStart = b.count
        for (t, o) in zip(tensors, offsets) where o < 1 << 20 {
            let at = dataStart + Int(o)
            if b.count < at + t.data.count { b += [UInt8](repeating: 0, count: at + t.data.count - b.count) }
            b.replaceSubrange(at..<(at + t.data.count), with: t.data)
        }
        return b
    }
}

extension Array where Element == UInt8 {
    /// Appends a fixed-width integer, little-endian.
    mutating func le<T: FixedWidthInteger>(_ v: T) {
        Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
    }

    mutating func ggufString(_ s: String) {
        le(UInt64(s.utf8.count))
        append(contentsOf: s.utf8)
    }

    /// Appends a value's payload (no type tag); an array's element type is its first element's.
    mutating func ggufValue(_ v: GGUFValue) {
        switch v {
        case let .uint8(x): le(x)
        case let .int8(x): le(x)
        case let .uint16(x): le(x)
        case let .int16(x): le(x)
        case let .uint32(x): le(x)
        case let .int32(x): le(x)
        case let .float32(x): le(x.bitPattern)
        case let .bool(x): append(x ? 1 : 0)
        case let .string(s): ggufString(s)
        case let .array(a):
            le(UInt32(a.first?.typeCode ?? 0))
            le(UInt64(a.count))
            for e in a { ggufValue(e) }
        case let .uint64(x): le(x)
        case let .int64(x): le(x)
        case let .float64(x): le(x.bitPattern)
        }
    }
}
