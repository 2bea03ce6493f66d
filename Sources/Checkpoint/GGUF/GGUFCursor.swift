// A bounds-checked little-endian reader over the mapped header of a GGUF file.

/// Reads GGUF's little-endian scalars and length-prefixed strings, throwing `truncated` instead of
/// reading past the end of the file.
struct GGUFCursor {
    let base: UnsafeRawPointer
    let count: Int
    let path: String
    /// Byte offset of the next read.
    var pos = 0

    var remaining: Int { count - pos }

    /// Advances over `n` bytes and returns where they start.
    @inline(__always)
    mutating func take(_ n: Int, _ what: @autoclosure () -> String) throws -> UnsafeRawPointer {
        guard n >= 0, n <= count - pos else { throw CheckpointError.truncated(path: path, what: what()) }
        let p = base + pos
        pos += n
        return p
    }

    mutating func u8(_ what: @autoclosure () -> String) throws -> UInt8 {
        try take(1, what()).load(as: UInt8.self)
    }

    mutating func u16(_ what: @autoclosure () -> String) throws -> UInt16 {
        UInt16(littleEndian: try take(2, what()).loadUnaligned(as: UInt16.self))
    }

    mutating func u32(_ what: @autoclosure () -> String) throws -> UInt32 {
        UInt32(littleEndian: try take(4, what()).loadUnaligned(as: UInt32.self))
    }

    mutating func u64(_ what: @autoclosure () -> String) throws -> UInt64 {
        UInt64(littleEndian: try take(8, what()).loadUnaligned(as: UInt64.self))
    }

    /// A `u64` that must also fit the rest of the file when multiplied by `unit` bytes (counts and
    /// lengths): anything larger cannot be honest, so it is reported as truncation.
    mutating func count(unit: Int, _ what: @autoclosure () -> String) throws -> Int {
        let n = try u64(what())
        guard n <= UInt64(remaining / max(unit, 1)) else {
            throw CheckpointError.truncated(path: path, what: "\(what()): it declares \(n) entries of at least \(unit) bytes, but only \(remaining) bytes remain")
        }
        return Int(n)
    }

    /// A GGUF string: `u64` byte length, then that many UTF-8 bytes (no terminator). Invalid UTF-8 is
    /// repaired with U+FFFD rather than rejected.
    mutating func string(_ what: @autoclosure () -> String) throws -> String {
        let n = try count(unit: 1, what())
        let p = try take(n, what())
        return String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self)
    }
}
