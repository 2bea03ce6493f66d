// IEEE half (F16) and bfloat16 to float32 conversion, shared by the GGUF and safetensors readers.

/// Converts IEEE 754 binary16 bits to Float (exact; subnormals, infinities and NaN included).
@inline(__always)
public func f16ToF32(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exp = UInt32(h >> 10) & 0x1f
    let mant = UInt32(h & 0x3ff)
    if exp == 0 {
        if mant == 0 { return Float(bitPattern: sign) }
        // Subnormal: value = mant * 2^-24.
        let v = Float(mant) * (1.0 / 16_777_216.0)
        return sign != 0 ? -v : v
    }
    if exp == 0x1f { return Float(bitPattern: sign | 0x7f80_0000 | (mant << 13)) }
    return Float(bitPattern: sign | ((exp + 112) << 23) | (mant << 13))
}

/// Converts bfloat16 bits to Float (exact: bfloat16 is the top half of a float32).
@inline(__always)
public func bf16ToF32(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }
