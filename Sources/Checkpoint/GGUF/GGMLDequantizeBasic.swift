// Dequantisation kernels for the float types and ggml's 32-element block types (Q4_0 ... Q8_0).

extension GGMLDequantizer {
    /// F32: a copy.
    static func dequantizeF32(_ s: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        UnsafeMutableRawPointer(y).copyMemory(from: s, byteCount: n * 4)
    }

    /// F16: IEEE half, little-endian.
    static func dequantizeF16(_ s: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] = loadHalf(s + 2 * i) }
    }

    /// BF16: the top 16 bits of a float32, little-endian.
    static func dequantizeBF16(_ s: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] = bf16ToF32(UInt16(s[2 * i]) | UInt16(s[2 * i + 1]) << 8) }
    }

    /// Q4_0 block (18 bytes): f16 d, qs[16]. Element j < 16 is the low nibble of qs[j], element j + 16 the
    /// high nibble; value = (q - 8) * d.
    static func dequantizeQ4_0(_ s: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for b in 0..<n {
            let x = s + b * 18, o = y + b * 32
            let d = loadHalf(x)
            let qs = x + 2
            for j in 0..<16 {
                o[j] = d * Float(Int32(qs[j] & 0x0f) - 8)
                o[j + 16] = d * Float(Int32(qs[j] >> 4) - 8)
            }
        }
    }

    /// Q4_1 block (20 bytes): f16 d, f16 m, qs[16]; nibbles as Q4_0; value = q * d + m.
    static func dequantizeQ4_1(_ s: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for b in 0..<n {
            let x = s + b * 20, o = y + b * 32
            let d = loadHalf(x), m = loadHalf(x + 2)
            let qs = x + 4
            for j in 0..<16 {
                o[j] = d * Float(qs[j] & 0x0f) + m
                o[j + 16] = d * Float(qs[j] >> 4) + m
            }
        }
    }

    /// Q5_0 block (22 bytes): f16 d, u32 qh (LE), qs[16]. Bit j of qh is the fifth bit of element j;
    /// value = (q - 16) * d.
    static func dequantizeQ5_0(_ s: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for b in 0..<n {
            let x = s + b * 22, o = y + b * 32
            let d = loadHalf(x)
            let qh = UInt32(x[2]) | UInt32(x[3]) << 8 | UInt32(x[4]) << 16 | UInt32(x[5]) << 24
            let qs = x + 6
            for j in 0..<16 {
                let h0 = Int32((qh >> UInt32(j)) & 1) << 4
                let h1 = Int32((qh >> UInt32(j + 16)) & 1) << 4
                o[j] = d * Float((Int32(qs[j] & 0x0f) | h0) - 16)
                o[j + 16] = d * Float((Int32(qs[j] >> 4) | h1) - 16)
            }
        }
    }

    /// Q5_1 block (24 bytes): f16 d, f16 m, u32 qh, qs[16]; bits as Q5_0; value = q * d + m.
    static func dequantizeQ5_1(_ s: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for b in 0..<n {
            let x = s + b * 24, o = y + b * 32
            let d = loadHalf(x), m = loadHalf(x + 2)
            let qh = UInt32(x[4]) | UInt32(x[5]) << 8 | UInt32(x[6]) << 16 | UInt32(x[7]) << 24
            let qs = x + 8
            for j in 0..<16 {
                let h0 = UInt32((qh >> UInt32(j)) & 1) << 4
                let h1 = UInt32((qh >> UInt32(j + 16)) & 1) << 4
                o[j] = d * Float(UInt32(qs[j] & 0x0f) | h0) + m
                o[j + 16] = d * Float(UInt32(qs[j] >> 4) | h1) + m
            }
        }
    }

    /// Q8_0 block (34 bytes): f16 d, int8 qs[32]; value = q * d.
    static func dequantizeQ8_0(_ s: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for b in 0..<n {
            let x = s + b * 34, o = y + b * 32
            let d = loadHalf(x)
            let qs = x + 2
            for j in 0..<32 { o[j] = Float(Int8(bitPattern: qs[j])) * d }
        }
    }
}
