// Rotary embedding: per-chunk cos/sin tables for each distinct (headDim, theta), and the half-split rotation.
import Foundation

/// cos/sin of `position * inv_freq[i]` for the rows of the current chunk, one table pair per rope config.
final class RopeTables {
    let configs: [RopeConfig]
    /// Per config: theta^(-2i/d) in float32, as the interpreter computes it. `[headDim / 2]`
    private let invFreq: [[Float]]
    /// Per config: `[maxRows, headDim / 2]`
    private let cosines: [AlignedFloats]
    private let sines: [AlignedFloats]

    init(configs: [RopeConfig], maxRows: Int) throws {
        self.configs = configs
        invFreq = configs.map { c in
            (0..<c.headDim / 2).map { i in Float(1.0 / pow(c.theta, Double(2 * i) / Double(c.headDim))) }
        }
        cosines = try configs.map { try AlignedFloats(count: maxRows * $0.headDim / 2, what: "rope table") }
        sines = try configs.map { try AlignedFloats(count: maxRows * $0.headDim / 2, what: "rope table") }
    }

    /// Fills rows 0..<rows for positions past..<past+rows.
    func fill(past: Int, rows: Int) {
        for t in configs.indices {
            let half = configs[t].headDim / 2
            let c = cosines[t].pointer, s = sines[t].pointer
            invFreq[t].withUnsafeBufferPointer { f in
                for r in 0..<rows {
                    let pos = Float(past + r)
                    for i in 0..<half {
                        let a = pos * f[i]
                        c[r * half + i] = Float(cos(Double(a)))
                        s[r * half + i] = Float(sin(Double(a)))
                    }
                }
            }
        }
    }

    /// Rotates `heads` heads of `headDim` floats from `src` into `dst` (may be `src`) at chunk row `row`:
    /// y[i] = x1[i] cos - x2[i] sin, y[i + d/2] = x2[i] cos + x1[i] sin (Hugging Face rotate-half).
    @inline(__always)
    func rotate(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, heads: Int, headDim d: Int, table t: Int, row: Int) {
        let half = d / 2
        let c = cosines[t].pointer + row * half, s = sines[t].pointer + row * half
        for h in 0..<heads {
            let x = src + h * d, y = dst + h * d
            for i in 0..<half {
                let x1 = x[i], x2 = x[i + half]
                y[i] = x1 * c[i] - x2 * s[i]
                y[i + half] = x2 * c[i] + x1 * s[i]
            }
        }
    }
}
