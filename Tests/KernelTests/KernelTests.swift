// The C weight kernels against independent definitions: row dequantisation against the checkpoint reader's Swift
// dequantiser, products against float arithmetic on the dequantised values, every instruction-set level this
// machine can run against the portable one, on random blocks and odd sizes, and the thread pool against one thread.
import CKernels
import PareCheckpoint
import XCTest

/// A small deterministic generator (SplitMix64), so a failure can be reproduced.
private struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
    /// Uniform in [-1, 1).
    mutating func unit() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
}

/// The formats under test, with the byte offsets of their f16 scale fields in a block.
private let formats: [(type: Int32, ggml: GGMLType, halves: [Int])] = [
    (Int32(PK_Q4_0), .q4_0, [0]), (Int32(PK_Q4_1), .q4_1, [0, 2]), (Int32(PK_Q5_0), .q5_0, [0]),
    (Int32(PK_Q5_1), .q5_1, [0, 2]), (Int32(PK_Q8_0), .q8_0, [0]), (Int32(PK_Q4_K), .q4_k, [0, 2]),
    (Int32(PK_Q6_K), .q6_k, [208]),
]

final class KernelTests: XCTestCase {
    /// Random blocks of `type` for `rows` rows of `n` elements: random bytes, with every f16 scale set to a small
    /// finite value (random bytes there would make infinities).
    private func randomMatrix(_ type: Int32, halves: [Int], rows: Int, n: Int, rng: inout SplitMix) -> [UInt8] {
        let blockBytes = pk_block_bytes(type), blocks = rows * n / Int(pk_block_elems(type))
        var bytes = (0..<(blocks * blockBytes)).map { _ in rng.byte() }
        for b in 0..<blocks {
            for h in halves {
                let v = pk_float_to_half(rng.unit() * 0.05)
                bytes[b * blockBytes + h] = UInt8(v & 0xff)
                bytes[b * blockBytes + h + 1] = UInt8(v >> 8)
            }
        }
        return bytes
    }

    private func dequantize(_ type: Int32, _ bytes: [UInt8], count: Int) -> [Float] {
        var out = [Float](repeating: .nan, count: count)
        let rowBytes = pk_row_bytes(type, Int64(count))
        XCTAssertEqual(rowBytes, bytes.count)
        bytes.withUnsafeBytes { b in out.withUnsafeMutableBufferPointer { pk_dequantize_row(type, b.baseAddress, $0.baseAddress, Int64(count)) } }
        return out
    }

    /// Every level this machine runs, the portable one first.
    private var levels: [Int32] {
        pk_level_max() >= Int32(PK_LEVEL_AVX2) ? [Int32(PK_LEVEL_PORTABLE), Int32(PK_LEVEL_AVX2)] : [Int32(PK_LEVEL_PORTABLE)]
    }

    override func tearDown() {
        _ = pk_set_level(pk_level_max())
        super.tearDown()
    }

    func testHalfConversionRoundTripsEveryHalf() {
        for h in 0...0xffff {
            let bits = UInt16(h)
            let f = pk_half_to_float(bits)
            if f.isNaN { XCTAssertTrue(pk_float_to_half(f) & 0x7c00 == 0x7c00 && pk_float_to_half(f) & 0x3ff != 0); continue }
            XCTAssertEqual(pk_float_to_half(f), bits, "half \(String(h, radix: 16))")
        }
    }

    func testFloatToHalfRoundsAsSwiftFloat16() {
        var rng = SplitMix(state: 7)
        for _ in 0..<200_000 {
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()) & 0xc7ff_ffff) // magnitudes up to ~2^16
            if f.isNaN { continue }
            XCTAssertEqual(pk_float_to_half(f), Float16(f).bitPattern, "\(f)")
        }
    }

    func testDequantizeMatchesTheCheckpointReader() throws {
        var rng = SplitMix(state: 1)
        for (type, ggml, halves) in formats {
            for blocksPerRow in [1, 3, 7] {
                let n = blocksPerRow * Int(pk_block_elems(type))
                let bytes = randomMatrix(type, halves: halves, rows: 1, n: n, rng: &rng)
                var expected = [Float](repeating: 0, count: n)
                try bytes.withUnsafeBytes { b in try expected.withUnsafeMutableBufferPointer { try GGMLDequantizer.dequantize(ggml, b, into: $0) } }
                for level in levels {
                    _ = pk_set_level(level)
                    XCTAssertEqual(dequantize(type, bytes, count: n), expected, "\(ggml.name), \(n) elements, level \(level)")
                }
            }
        }
    }

    func testActivationQuantisationIsTheSameAtEveryLevel() {
        var rng = SplitMix(state: 2)
        for type in [Int32(PK_Q8_0), Int32(PK_Q4_K)] {
            for n in type == Int32(PK_Q8_0) ? [32, 96, 896] : [256, 4864] {
                let x = (0..<n).map { _ in rng.unit() * 3 }, gain = (0..<n).map { _ in rng.unit() }
                var outputs: [[UInt8]] = []
                for level in levels {
                    _ = pk_set_level(level)
                    var act = [UInt8](repeating: 0, count: pk_act_bytes(type, Int64(n)))
                    act.withUnsafeMutableBytes { pk_quantize_act(type, x, gain, 0.7, Int64(n), $0.baseAddress) }
                    outputs.append(act)
                }
                for o in outputs.dropFirst() { XCTAssertEqual(o, outputs[0], "type \(type), n \(n)") }
            }
        }
    }

    /// The activation's values as the kernels see them: d * q per element.
    private func activationValues(_ type: Int32, _ act: [UInt8], n: Int) -> [Float] {
        act.withUnsafeBytes { raw -> [Float] in
            var out = [Float](repeating: 0, count: n)
            if pk_block_elems(type) == 256 {
                for b in 0..<(n / 256) {
                    let base = b * 292, d = raw.load(fromByteOffset: base, as: Float.self)
                    for j in 0..<256 { out[b * 256 + j] = d * Float(raw.load(fromByteOffset: base + 36 + j, as: Int8.self)) }
                }
            } else {
                for b in 0..<(n / 32) {
                    let base = b * 40, d = raw.load(fromByteOffset: base, as: Float.self)
                    for j in 0..<32 { out[b * 32 + j] = d * Float(raw.load(fromByteOffset: base + 8 + j, as: Int8.self)) }
                }
            }
            return out
        }
    }

    func testProductsMatchFloatArithmeticAtEveryLevel() {
        var rng = SplitMix(state: 3)
        for (type, ggml, halves) in formats {
            let block = Int(pk_block_elems(type))
            for (rows, blocksPerRow, m) in [(1, 1, 1), (37, 3, 1), (5, block == 32 ? 28 : 19, 3)] {
                let n = blocksPerRow * block
                let w = randomMatrix(type, halves: halves, rows: rows, n: n, rng: &rng)
                let rowBytes = pk_row_bytes(type, Int64(n))
                let actBytes = pk_act_bytes(type, Int64(n))
                let xs = (0..<(m * n)).map { _ in rng.unit() }
                var act = [UInt8](repeating: 0, count: m * actBytes)
                act.withUnsafeMutableBytes { a in
                    for i in 0..<m { pk_quantize_act(type, Array(xs[(i * n)..<((i + 1) * n)]), nil, 1, Int64(n), a.baseAddress! + i * actBytes) }
                }
                // The reference: dequantised weights times dequantised activations, in double.
                var reference = [Double](repeating: 0, count: m * rows), magnitude = reference
                for i in 0..<m {
                    let a = activationValues(type, Array(act[(i * actBytes)..<((i + 1) * actBytes)]), n: n)
                    for r in 0..<rows {
                        let wr = dequantize(type, Array(w[(r * rowBytes)..<((r + 1) * rowBytes)]), count: n)
                        for k in 0..<n {
                            reference[i * rows + r] += Double(wr[k]) * Double(a[k])
                            magnitude[i * rows + r] += abs(Double(wr[k]) * Double(a[k]))
                        }
                    }
                }
                for level in levels {
                    _ = pk_set_level(level)
                    var y = [Float](repeating: .nan, count: m * rows)
                    w.withUnsafeBytes { wb in act.withUnsafeBytes { ab in y.withUnsafeMutableBufferPointer { yb in
                        pk_matmul_rows(type, wb.baseAddress, Int64(n), 0, Int64(rows), ab.baseAddress, actBytes, Int64(m), yb.baseAddress, Int64(rows))
                    } } }
                    for j in 0..<(m * rows) {
                        XCTAssertEqual(Double(y[j]), reference[j], accuracy: 1e-5 * magnitude[j] + 1e-6,
                                       "\(ggml.name) level \(level) rows \(rows) n \(n) m \(m) element \(j)")
                    }
                }
            }
        }
    }

    func testQuantisedProductIsCloseToTheFloatProduct() {
        // The cost of quantising the activation to 8 bits: small against the product's own size.
        var rng = SplitMix(state: 4)
        for (type, ggml, halves) in formats {
            let n = 4 * Int(pk_block_elems(type))
            let w = randomMatrix(type, halves: halves, rows: 1, n: n, rng: &rng)
            let wf = dequantize(type, w, count: n)
            let x = (0..<n).map { _ in rng.unit() }
            var act = [UInt8](repeating: 0, count: pk_act_bytes(type, Int64(n)))
            act.withUnsafeMutableBytes { pk_quantize_act(type, x, nil, 1, Int64(n), $0.baseAddress) }
            var y: Float = .nan
            w.withUnsafeBytes { wb in act.withUnsafeBytes { ab in pk_matmul_rows(type, wb.baseAddress, Int64(n), 0, 1, ab.baseAddress, 0, 1, &y, 1) } }
            let exact = zip(wf, x).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let norm = sqrt(wf.reduce(0.0) { $0 + Double($1 * $1) } * x.reduce(0.0) { $0 + Double($1 * $1) })
            XCTAssertEqual(Double(y), exact, accuracy: 0.01 * norm, ggml.name)
        }
    }

    func testFloatRowsAndHalfRows() {
        var rng = SplitMix(state: 5)
        for n in [1, 7, 8, 33, 896] {
            let wf = (0..<n).map { _ in rng.unit() }, x = (0..<n).map { _ in rng.unit() }
            let halves = wf.map { pk_float_to_half($0) }
            let exactHalf = zip(halves, x).reduce(0.0) { $0 + Double(pk_half_to_float($1.0)) * Double($1.1) }
            for level in levels {
                _ = pk_set_level(level)
                var act = [Float](repeating: 0, count: n)
                act.withUnsafeMutableBytes { pk_quantize_act(Int32(PK_F16), x, nil, 1, Int64(n), $0.baseAddress) }
                XCTAssertEqual(act, x)
                var y: Float = .nan
                halves.withUnsafeBytes { wb in pk_matmul_rows(Int32(PK_F16), wb.baseAddress, Int64(n), 0, 1, act, 0, 1, &y, 1) }
                XCTAssertEqual(Double(y), exactHalf, accuracy: 1e-5 * Double(n), "f16 n \(n) level \(level)")
                var back = [Float](repeating: 0, count: n)
                halves.withUnsafeBytes { pk_dequantize_row(Int32(PK_F16), $0.baseAddress, &back, Int64(n)) }
                XCTAssertEqual(back, halves.map { pk_half_to_float($0) })
            }
        }
    }

    func testThreadPoolGivesTheSingleThreadResult() {
        var rng = SplitMix(state: 6)
        let type = Int32(PK_Q5_0), n = 896, rows = 1153, m = 3
        let w = randomMatrix(type, halves: [0], rows: rows, n: n, rng: &rng)
        let actBytes = pk_act_bytes(type, Int64(n))
        var act = [UInt8](repeating: 0, count: m * actBytes)
        let xs = (0..<(m * n)).map { _ in rng.unit() }
        act.withUnsafeMutableBytes { a in
            for i in 0..<m { pk_quantize_act(type, Array(xs[(i * n)..<((i + 1) * n)]), nil, 1, Int64(n), a.baseAddress! + i * actBytes) }
        }
        var one = [Float](repeating: .nan, count: m * rows), pooled = one
        w.withUnsafeBytes { wb in act.withUnsafeBytes { ab in
            pk_matmul_rows(type, wb.baseAddress, Int64(n), 0, Int64(rows), ab.baseAddress, actBytes, Int64(m), &one, Int64(rows))
            for _ in 0..<50 { // many products: a lost wake-up or a race would show as a hang or a NaN
                pooled = [Float](repeating: .nan, count: m * rows)
                pk_matmul(type, wb.baseAddress, Int64(n), Int64(rows), ab.baseAddress, actBytes, Int64(m), &pooled, Int64(rows))
                XCTAssertEqual(pooled, one)
            }
        } }
        XCTAssertGreaterThanOrEqual(pk_threads(), 1)
    }

    func testSizesRejectPartialBlocks() {
        XCTAssertEqual(pk_row_bytes(Int32(PK_Q4_K), 896), 0)
        XCTAssertEqual(pk_row_bytes(Int32(PK_Q5_0), 896), 28 * 22)
        XCTAssertEqual(pk_row_bytes(Int32(PK_Q6_K), 4864), 19 * 210)
        XCTAssertEqual(pk_row_bytes(Int32(PK_F16), 7), 14)
        XCTAssertEqual(pk_supported(13), 0) // Q5_K: not (yet) a kernel format
        XCTAssertEqual(pk_row_bytes(13, 256), 0)
    }

    func testDequantisedTileProductIsTheFloatProduct() {
        // The prefill path: tiles of dequantised rows times float activations (sgemm), on the pool.
        var rng = SplitMix(state: 8)
        for (type, ggml, halves) in formats {
            let n = 3 * Int(pk_block_elems(type)), rows = 77, m = 5 // rows: two whole tiles of 32 and a partial one
            let w = randomMatrix(type, halves: halves, rows: rows, n: n, rng: &rng)
            let wf = dequantize(type, w, count: rows * n)
            let x = (0..<(m * n)).map { _ in rng.unit() }
            var y = [Float](repeating: .nan, count: m * rows)
            w.withUnsafeBytes { pk_matmul_f32(type, $0.baseAddress, Int64(n), Int64(rows), x, Int64(m), Int64(n), &y, Int64(rows)) }
            for i in 0..<m {
                for r in 0..<rows {
                    var exact = 0.0, magnitude = 0.0
                    for k in 0..<n {
                        exact += Double(wf[r * n + k]) * Double(x[i * n + k])
                        magnitude += abs(Double(wf[r * n + k]) * Double(x[i * n + k]))
                    }
                    XCTAssertEqual(Double(y[i * rows + r]), exact, accuracy: 1e-5 * magnitude + 1e-7, "\(ggml.name) row \(r) activation \(i)")
                }
            }
        }
    }

    // MARK: Encoders (pk_quantize_row): what `quantize(...)` and `--weights f16|q8|q4` write.

    private func encode(_ type: Int32, _ x: [Float]) -> (status: Int32, bytes: [UInt8]) {
        var out = [UInt8](repeating: 0xAA, count: max(pk_row_bytes(type, Int64(x.count)), 1))
        let status = x.withUnsafeBufferPointer { xp in out.withUnsafeMutableBytes { pk_quantize_row(type, xp.baseAddress, $0.baseAddress, Int64(x.count)) } }
        return (status, out)
    }

    /// Decoded by the checkpoint reader's Swift dequantiser: an independent reading of the format.
    private func decode(_ ggml: GGMLType, _ bytes: [UInt8], count: Int) throws -> [Float] {
        var out = [Float](repeating: .nan, count: count)
        try bytes.withUnsafeBytes { b in try out.withUnsafeMutableBufferPointer { try GGMLDequantizer.dequantize(ggml, b, into: $0) } }
        return out
    }

    private let encodable: [(type: Int32, ggml: GGMLType)] = [(Int32(PK_F16), .f16), (Int32(PK_Q8_0), .q8_0),
                                                              (Int32(PK_Q4_0), .q4_0), (Int32(PK_Q4_1), .q4_1)]

    func testEncodersWriteKnownBlocks() {
        func half(_ f: Float) -> [UInt8] { let h = pk_float_to_half(f); return [UInt8(h & 0xff), UInt8(h >> 8)] }
        // q8_0: the largest magnitude is 127, so the scale is exactly 1 and q = x.
        let x8: [Float] = [-127] + (0..<31).map(Float.init)
        XCTAssertEqual(encode(Int32(PK_Q8_0), x8).bytes, half(1) + x8.map { UInt8(bitPattern: Int8($0)) })
        // q4_0: the largest magnitude is -8, so the scale is -8 / -8 = 1 and q = x + 8; element j in the low nibble
        // of byte j, element j + 16 in the high nibble.
        let x40: [Float] = (0..<16).map { Float($0 - 8) } + (0..<16).map { Float(7 - $0) }
        XCTAssertEqual(encode(Int32(PK_Q4_0), x40).bytes, half(1) + (0..<16).map { UInt8($0 | (15 - $0) << 4) })
        // q4_1: min 0 and max 15: scale 1, min 0, q = x.
        let x41: [Float] = (0..<16).map(Float.init) + (0..<16).map { Float(15 - $0) }
        XCTAssertEqual(encode(Int32(PK_Q4_1), x41).bytes, half(1) + half(0) + (0..<16).map { UInt8($0 | (15 - $0) << 4) })
        // A block of zeros: scale 0 / -8 = -0 (as ggml writes it), every q at the zero point 8.
        XCTAssertEqual(encode(Int32(PK_Q4_0), [Float](repeating: 0, count: 32)).bytes, half(-0.0) + [UInt8](repeating: 0x88, count: 16))
        XCTAssertEqual(encode(Int32(PK_F16), [1, -2, 0.5]).bytes, half(1) + half(-2) + half(0.5))
    }

    /// The squared error of ggml's reference (min-max) encoding of one 32-element block, computed here in Swift:
    /// what the refined encoder must not exceed.
    private func referenceError(_ x: ArraySlice<Float>, _ ggml: GGMLType) -> Double {
        func half(_ f: Float) -> Float { pk_half_to_float(pk_float_to_half(f)) }
        var e = 0.0
        switch ggml {
        case .q4_0:
            let max = x.max(by: { abs($0) < abs($1) })!
            let d = max / -8, id = d != 0 ? 1 / d : 0, dh = half(d)
            for v in x { let q = min(15, Int(Int8(truncatingIfNeeded: Int(v * id + 8.5)))); e += Double(v - dh * Float(q - 8)) * Double(v - dh * Float(q - 8)) }
        case .q4_1:
            let (lo, hi) = (x.min()!, x.max()!)
            let d = (hi - lo) / 15, id = d != 0 ? 1 / d : 0, (dh, mh) = (half(d), half(lo))
            for v in x { let q = min(15, Int(Int8(truncatingIfNeeded: Int((v - lo) * id + 0.5)))); e += Double(v - (dh * Float(q) + mh)) * Double(v - (dh * Float(q) + mh)) }
        default: return .infinity
        }
        return e
    }

    func testEncodersRoundTripCloselyAndRefinementNeverLosesToTheReference() throws {
        var rng = SplitMix(state: 11)
        var gained = 0.0, reference = 0.0
        for (type, ggml) in encodable {
            for blocks in [1, 2, 5, 40] {
                let n = blocks * 32
                // Blocks of different scales, one of them all zeros, one with a single large value (an outlier).
                var x = (0..<n).map { i in rng.unit() * [0.01, 1, 30][i / 32 % 3] }
                if blocks > 1 { for i in 32..<64 { x[i] = 0 } }
                x[n - 1] = 50
                let (status, bytes) = encode(type, x)
                XCTAssertEqual(status, 0)
                let y = try decode(ggml, bytes, count: n)
                for b in 0..<blocks {
                    let block = x[(32 * b)..<(32 * b + 32)]
                    let amax = block.map(abs).max()!
                    switch Int(type) {
                    case Int(PK_F16):
                        for i in block.indices { XCTAssertLessThanOrEqual(abs(y[i] - x[i]), abs(x[i]) * 0x1p-11 + 0x1p-25, "f16 \(i)") }
                    case Int(PK_Q8_0):
                        // Half a step, plus the half rounding of the scale (2^-11 of it, per level).
                        for i in block.indices { XCTAssertLessThanOrEqual(abs(y[i] - x[i]), amax / 254 + amax * 0x1p-9 + 1e-7, "q8_0 \(i)") }
                    default:
                        // 4-bit: at most the reference's squared error (the refinement keeps the better block).
                        var e = 0.0
                        for i in block.indices { e += Double(y[i] - x[i]) * Double(y[i] - x[i]) }
                        let r = referenceError(block, ggml)
                        XCTAssertLessThanOrEqual(e, r * (1 + 1e-6) + 1e-12, "\(ggml.name) block \(b): refined \(e) > reference \(r)")
                        gained += r - e
                        reference += r
                    }
                }
                if type == Int32(PK_F16) || type == Int32(PK_Q8_0) {
                    // Encoding the decoded values gives the same blocks: the plan's bytes are a fixed point.
                    XCTAssertEqual(encode(type, y).bytes, bytes, "\(ggml.name): re-encoding its own output")
                }
            }
        }
        print(String(format: "4-bit refinement: squared error %.1f%% below the reference encoding on random blocks", 100 * gained / reference))
        XCTAssertGreaterThan(gained, 0.02 * reference, "the refinement should find better blocks than min-max on random data")
    }

    func testEncodersRejectWhatTheyCannotWrite() {
        XCTAssertEqual(encode(Int32(PK_Q8_0), [Float](repeating: 1, count: 33)).status, -1, "not whole blocks")
        XCTAssertEqual(encode(Int32(PK_Q5_0), [Float](repeating: 1, count: 32)).status, -1, "q5_0 is read, not written")
        XCTAssertEqual(pk_encodable(Int32(PK_Q4_K)), 0)
        var x = [Float](repeating: 1, count: 64)
        x[40] = .nan
        XCTAssertEqual(encode(Int32(PK_Q4_0), x).status, -2, "NaN")
        x[40] = -.infinity
        XCTAssertEqual(encode(Int32(PK_F16), x).status, -2, "infinity")
    }
}
