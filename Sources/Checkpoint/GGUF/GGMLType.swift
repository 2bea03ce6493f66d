// The ggml tensor storage types with their real numbering, block sizes and block byte sizes.

/// A ggml tensor storage type, numbered as in ggml's `enum ggml_type` (numbers 4, 5, 31-33, 36-38 were
/// retired by ggml and are not types).
///
/// Every type stores its elements along `ne[0]` in blocks of `blockSize` elements taking `typeSize` bytes.
public enum GGMLType: Int, Sendable, CaseIterable {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9
    case q2_k = 10, q3_k = 11, q4_k = 12, q5_k = 13, q6_k = 14, q8_k = 15
    case iq2_xxs = 16, iq2_xs = 17, iq3_xxs = 18, iq1_s = 19, iq4_nl = 20, iq3_s = 21, iq2_s = 22, iq4_xs = 23
    case i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_m = 29, bf16 = 30
    case tq1_0 = 34, tq2_0 = 35, mxfp4 = 39, nvfp4 = 40, q1_0 = 41

    /// Elements per block.
    public var blockSize: Int { Self.layout[rawValue].block }

    /// Bytes per block (ggml's `sizeof(block_...)`).
    public var typeSize: Int { Self.layout[rawValue].bytes }

    /// Lower-case name, as `TensorInfo.encoding` spells it: `q4_k`, `bf16`, `iq2_xxs`.
    public var name: String { String(describing: self) }

    /// True for the types Pare dequantises to float32.
    public var isDequantizable: Bool {
        switch self {
        case .f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_k, .q3_k, .q4_k, .q5_k, .q6_k: return true
        default: return false
        }
    }

    /// Bytes taken by `count` elements laid along `ne[0]`, or nil when `count` is not a whole number of
    /// blocks or the size overflows.
    public func byteCount(elements count: Int) -> Int? {
        guard count >= 0, count % blockSize == 0 else { return nil }
        let (bytes, overflow) = (count / blockSize).multipliedReportingOverflow(by: typeSize)
        return overflow ? nil : bytes
    }

    // (elements per block, bytes per block) indexed by raw value; (0, 0) for retired numbers.
    private static let layout: [(block: Int, bytes: Int)] = {
        var t = [(block: Int, bytes: Int)](repeating: (0, 0), count: 42)
        let qk = 256
        t[0] = (1, 4); t[1] = (1, 2)
        t[2] = (32, 2 + 16)                       // d, qs[16]
        t[3] = (32, 2 + 2 + 16)                   // d, m, qs[16]
        t[6] = (32, 2 + 4 + 16)                   // d, qh[4], qs[16]
        t[7] = (32, 2 + 2 + 4 + 16)               // d, m, qh[4], qs[16]
        t[8] = (32, 2 + 32)                       // d, qs[32]
        t[9] = (32, 2 + 2 + 32)                   // d, s, qs[32]
        t[10] = (qk, qk / 16 + qk / 4 + 2 + 2)    // scales, qs, d, dmin = 84
        t[11] = (qk, qk / 8 + qk / 4 + 12 + 2)    // hmask, qs, scales, d = 110
        t[12] = (qk, 2 + 2 + 12 + qk / 2)         // d, dmin, scales, qs = 144
        t[13] = (qk, 2 + 2 + 12 + qk / 8 + qk / 2) // d, dmin, scales, qh, qs = 176
        t[14] = (qk, qk / 2 + qk / 4 + qk / 16 + 2) // ql, qh, scales, d = 210
        t[15] = (qk, 4 + qk + qk / 16 * 2)        // d (f32), qs, bsums = 292
        t[16] = (qk, 66); t[17] = (qk, 74); t[18] = (qk, 98); t[19] = (qk, 50)
        t[20] = (32, 18); t[21] = (qk, 110); t[22] = (qk, 82); t[23] = (qk, 136)
        t[24] = (1, 1); t[25] = (1, 2); t[26] = (1, 4); t[27] = (1, 8); t[28] = (1, 8)
        t[29] = (qk, 56); t[30] = (1, 2)
        t[34] = (qk, 54); t[35] = (qk, 66); t[39] = (32, 17); t[40] = (64, 36); t[41] = (128, 18)
        return t
    }()
}
