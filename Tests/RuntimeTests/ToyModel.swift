// A tiny two-block model with deterministic pseudo-random weights; blocks differ, as after pruning.
import Foundation

/// Deterministic pseudo-random numbers for test data (a 64-bit LCG; Knuth's MMIX constants).
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1 }
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state >> 11
    }
    /// Uniform in [-1, 1).
    mutating func float() -> Float { Float(Double(next()) / Double(1 << 53) * 2 - 1) }
    mutating func floats(_ n: Int, scale: Float = 1, offset: Float = 0) -> [Float] { (0..<n).map { _ in offset + scale * float() } }
    mutating func int(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

/// One transformer block's dims and weights (row-major, `[out, in]`).
struct ToyBlock {
    var heads: Int, kvHeads: Int, headDim: Int, ffn: Int, theta: Double
    var attnNorm: [Float]          // [H]
    var wq: [Float], bq: [Float]   // [heads*d, H], [heads*d]
    var wk: [Float], bk: [Float]   // [kv*d, H], [kv*d]
    var wv: [Float], bv: [Float]   // [kv*d, H], [kv*d]
    var wo: [Float]                // [H, heads*d]
    var ffnNorm: [Float]           // [H]
    var gate: [Float], up: [Float] // [F, H]
    var down: [Float]              // [H, F]
}

/// The toy model: hidden 16, vocabulary 50; block 0 has 4 heads / 2 KV heads / FFN 24 (theta 1e4),
/// block 1 has 2 heads / 1 KV head / FFN 20 (theta 5e5); head dim 4.
struct ToyModel {
    var hidden = 16, vocab = 50
    var eps: Float = 1e-5
    var embed: [Float]    // [V, H]
    var blocks: [ToyBlock]
    var outNorm: [Float]  // [H]
    var head: [Float]     // [V, H]

    init(seed: UInt64 = 7) {
        var r = TestRandom(seed: seed)
        let h = hidden
        embed = r.floats(vocab * h)
        let dims = [(4, 2, 24, 10_000.0), (2, 1, 20, 500_000.0)]
        blocks = dims.map { heads, kv, ffn, theta in
            let d = 4
            let s = 1 / Float(h).squareRoot()
            return ToyBlock(heads: heads, kvHeads: kv, headDim: d, ffn: ffn, theta: theta,
                            attnNorm: r.floats(h, scale: 0.3, offset: 1),
                            wq: r.floats(heads * d * h, scale: 2 * s), bq: r.floats(heads * d, scale: 0.2),
                            wk: r.floats(kv * d * h, scale: 2 * s), bk: r.floats(kv * d, scale: 0.2),
                            wv: r.floats(kv * d * h, scale: s), bv: r.floats(kv * d, scale: 0.2),
                            wo: r.floats(h * heads * d, scale: 1 / Float(heads * d).squareRoot()),
                            ffnNorm: r.floats(h, scale: 0.3, offset: 1),
                            gate: r.floats(ffn * h, scale: s), up: r.floats(ffn * h, scale: s),
                            down: r.floats(h * ffn, scale: 1 / Float(ffn).squareRoot()))
        }
        outNorm = r.floats(h, scale: 0.3, offset: 1)
        head = r.floats(vocab * h, scale: 3 / Float(h).squareRoot())
    }

    /// Token ids in 0..<vocab.
    static func tokens(_ n: Int, seed: UInt64) -> [Int] {
        var r = TestRandom(seed: seed)
        return (0..<n).map { _ in r.int(50) }
    }
}
