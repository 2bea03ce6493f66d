// Dequantisation kernels for ggml's k-quants: 256-element super-blocks Q2_K, Q3_K, Q4_K, Q5_K, Q6_K.

extension GGMLDequantizer {
    /// Q2_K super-block (84 bytes): scales[16] (low nibble scale, high nibble min, one per 16 elements),
    /// qs[64] (2-bit quants), f16 d, f16 dmin. Element e: byte qs[e / 128 * 32 + e % 32], bits
    /// 2 * (e % 128 / 32); value = d * scale * q - dmin * min.
    static func dequantizeQ2_K(_ s: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for b in 0..<n {
            let x = s + b * 84, o = y + b * 256
            let scales = x, d = loadHalf(x + 80), dmin = loadHalf(x + 82)
            for half in 0..<2 {
                let q = x + 16 + 32 * half
                for j in 0..<4 {
                    let shift = UInt8(2 * j)
                    for k in 0..<2 {
                        let sc = scales[half * 8 + j * 2 + k]
                        let dl = d * Float(sc & 0x0f), ml = dmin * Float(sc >> 4)
                        let qq = q + 16 * k, oo = o + half * 128 + j * 32 + k * 16
                        for l in 0..<16 { oo[l] = dl * Float((qq[l] >> shift) & 3) - ml }
                    }
                }
            }
        }
    }

    /// Q3_K super-block (110 bytes): hmask[32] (high bits), qs[64] (low 2 bits), scales[12] (sixteen 6-bit
    /// scales: low nibbles in bytes 0-7, high 2-bit pairs in bytes 8-11), f16 d. Element e: low bits as
    /// Q2_K, high bit = bit e / 32 of hmask[e % 32]; value = d * (scale - 32) * (q - (high bit ? 0 : 4)).
    static func dequantizeQ3_K(_ s: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for b in 0..<n {
            let x = s + b * 110, o = y + b * 256
            let hmask = x, qs = x + 32, sc = x + 96, d = loadHalf(x + 108)
            for g in 0..<16 { // one scale per 16 elements
                let low = g < 8 ? sc[g] & 0x0f : sc[g - 8] >> 4
                let high = (sc[8 + g % 4] >> UInt8(2 * (g / 4))) & 3
                let dl = d * Float(Int32(low | high << 4) - 32)
                let e0 = g * 16
                let q = qs + e0 / 128 * 32 + e0 % 32
                let shift = UInt8(2 * (e0 % 128 / 32))
                let hbit = UInt8(e0 / 32)
                let hm = hmask + e0 % 32
                let oo = o + e0
                for l in 0..<16 {
                    let lo = Int32((q[l] >> shift) & 3)
                    let hi = Int32((hm[l] >> hbit) & 1)
                    oo[l] = dl * Float(lo - 4 + 4 * hi)
                }
            }
        }
    }

    /// The 6-bit scale and min of sub-block `j` (0..<8) from Q4_K/Q5_K's 12 packed scale bytes.
    @inline(__always)
    static func scaleMinK4(_ j: Int, _ q: UnsafePointer<UInt8>) -> (Float, Float) {
        if j < 4 { return (Float(q[j] & 63), Float(q[j + 4] & 63)) }
        return (Float((q[j + 4] & 0x0f) | (q[j - 4] >> 6) << 4), Float((q[j + 4] >> 4) | (q[j] >> 6) << 4))
    }

    /// Q4_K super-block (144 bytes): f16 d, f16 dmin, scales[12] (eight 6-bit scale/min pairs), qs[128].
    /// Each 64 elements use 32 bytes: low nibbles first (sub-block 2i), then high nibbles (2i + 1);
    /// value = d * scale * q - dmin * min.
    static func dequantizeQ4_K(_ s: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for b in 0..<n {
            let x = s + b * 144, o = y + b * 256
            let d = loadHalf(x), dmin = loadHalf(x + 2), sc = x + 4
            for j in 0..<4 {
                let (s1, m1) = scaleMinK4(2 * j, sc), (s2, m2) = scaleMinK4(2 * j + 1, sc)
                let d1 = d * s1, dm1 = dmin * m1, d2 = d * s2, dm2 = dmin * m2
                let q = x + 16 + 32 * j, oo = o + 64 * j
                for l in 0..<32 {
                    oo[l] = d1 * Float(q[l] & 0x0f) - dm1
                    oo[l + 32] = d2 * Float(q[l] >> 4) - dm2
                }
            }
        }
    }

    /// Q5_K super-block (176 bytes): f16 d, f16 dmin, scales[12] as Q4_K, qh[32], qs[128]. Nibbles as
    /// Q4_K; the fifth bit of element e is bit e / 32 of qh[e % 32]; value = d * scale * q - dmin * min.
    static func dequantizeQ5_K(_ s: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for b in 0..<n {
            let x = s + b * 176, o = y + b * 256
            let d = loadHalf(x), dmin = loadHalf(x + 2), sc = x + 4, qh = x + 16
            for j in 0..<4 {
                let (s1, m1) = scaleMinK4(2 * j, sc), (s2, m2) = scaleMinK4(2 * j + 1, sc)
                let d1 = d * s1, dm1 = dmin * m1, d2 = d * s2, dm2 = dmin * m2
                let q = x + 48 + 32 * j, oo = o + 64 * j
                let b1 = UInt8(2 * j), b2 = UInt8(2 * j + 1)
                for l in 0..<32 {
                    let h1 = ((qh[l] >> b1) & 1) << 4, h2 = ((qh[l] >> b2) & 1) << 4
                    oo[l] = d1 * Float((q[l] & 0x0f) | h1) - dm1
                    oo[l + 32] = d2 * Float((q[l] >> 4) | h2) - dm2
                }
            }
        }
    }

    /// Q6_K super-block (210 bytes): ql[128] (low 4 bits), qh[64] (high 2 bits), int8 scales[16] (one per
    /// 16 elements), f16 d. Per 128 elements: 64 ql bytes, 32 qh bytes; value = d * scale * (q - 32).
    static func dequantizeQ6_K(_ s: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for b in 0..<n {
            let x = s + b * 210, o = y + b * 256
            let d = loadHalf(x + 208)
            for half in 0..<2 {
                let ql = x + 64 * half, qh = x + 128 + 32 * half, sc = x + 192 + 8 * half
                let oo = o + 128 * half
                for i in 0..<2 {
                    let d1 = d * Float(Int8(bitPattern: sc[i]))
                    let d2 = d * Float(Int8(bitPattern: sc[i + 2]))
                    let d3 = d * Float(Int8(bitPattern: sc[i + 4]))
                    let d4 = d * Float(Int8(bitPattern: sc[i + 6]))
                    for l in (16 * i)..<(16 * i + 16) {
                        let h = qh[l]
                        let q1 = Int32((ql[l] & 0x0f) | (h & 3) << 4) - 32
                        let q2 = Int32((ql[l + 32] & 0x0f) | ((h >> 2) & 3) << 4) - 32
                        let q3 = Int32((ql[l] >> 4) | ((h >> 4) & 3) << 4) - 32
                        let q4 = Int32((ql[l + 32] >> 4) | ((h >> 6) & 3) << 4) - 32
                        oo[l] = d1 * Float(q1)
                        oo[l + 32] = d2 * Float(q2)
                        oo[l + 64] = d3 * Float(q3)
                        oo[l + 96] = d4 * Float(q4)
                    }
                }
            }
        }
    }
}
