// The interpreter's numeric kernels: OpenBLAS matrix products and plain float32 loops for the rest.
import CBLAS
import Foundation

/// Float32 kernels, written for clarity first; matrix products go to OpenBLAS.
enum Kernels {
    /// y[m, n] = x[m, k] · W[n, k]^T (+ bias[n]).
    static func linear(_ x: [Float], rows m: Int, in k: Int, weight w: [Float], out n: Int, bias: [Float]?) -> [Float] {
        var y = [Float](repeating: 0, count: m * n)
        if let bias {
            y.withUnsafeMutableBufferPointer { yp in
                for r in 0..<m { for c in 0..<n { yp[r * n + c] = bias[c] } }
            }
        }
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    let beta: Float = bias == nil ? 0 : 1
                    if m == 1 {
                        // Matrix-vector: sgemv is several times faster than sgemm with one row.
                        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), 1, wp.baseAddress, Int32(k),
                                    xp.baseAddress, 1, beta, yp.baseAddress, 1)
                    } else {
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1,
                                    xp.baseAddress, Int32(k), wp.baseAddress, Int32(k), beta, yp.baseAddress, Int32(n))
                    }
                }
            }
        }
        return y
    }

    /// Row-wise RMS norm: x / sqrt(mean(x²) + eps) · weight. x: [m, n], weight: [n].
    static func rmsNorm(_ x: [Float], rows m: Int, cols n: Int, weight: [Float], eps: Float) -> [Float] {
        var y = [Float](repeating: 0, count: m * n)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                weight.withUnsafeBufferPointer { wp in
                    for r in 0..<m {
                        let row = xp.baseAddress! + r * n
                        var ss: Float = 0
                        for i in 0..<n { ss += row[i] * row[i] }
                        let inv = 1 / (ss / Float(n) + eps).squareRoot()
                        let out = yp.baseAddress! + r * n
                        for i in 0..<n { out[i] = wp[i] * (row[i] * inv) }
                    }
                }
            }
        }
        return y
    }

    /// Rotary embedding, Hugging Face's rotate-half convention, in place on x: [m, heads·headDim];
    /// row r is at position `start + r`; inv_freq[i] = theta^(-2i/headDim).
    static func rope(_ x: inout [Float], rows m: Int, heads: Int, headDim d: Int, theta: Double, start: Int) {
        let half = d / 2
        // Same float32 arithmetic as transformers: inv_freq in float32, angle = position · inv_freq in float32.
        let invFreq: [Float] = (0..<half).map { i in Float(1.0 / pow(theta, Double(2 * i) / Double(d))) }
        x.withUnsafeMutableBufferPointer { xp in
            for r in 0..<m {
                let pos = Float(start + r)
                var cosv = [Float](repeating: 0, count: half), sinv = cosv
                for i in 0..<half {
                    let a = pos * invFreq[i]
                    cosv[i] = Float(cos(Double(a)))
                    sinv[i] = Float(sin(Double(a)))
                }
                for h in 0..<heads {
                    let p = xp.baseAddress! + r * heads * d + h * d
                    for i in 0..<half {
                        let x1 = p[i], x2 = p[i + half]
                        p[i] = x1 * cosv[i] - x2 * sinv[i]
                        p[i + half] = x2 * cosv[i] + x1 * sinv[i]
                    }
                }
            }
        }
    }

    /// Causal grouped-query attention. q: [m, heads·d] for positions past..<past+m; keys and values:
    /// [past+m, kvHeads·d] (the cache, this chunk included). Returns [m, heads·d].
    static func attention(q: [Float], rows m: Int, keys: [Float], values: [Float], length L: Int, past: Int,
                          heads: Int, kvHeads: Int, headDim d: Int) -> [Float] {
        var out = [Float](repeating: 0, count: m * heads * d)
        var scores = [Float](repeating: 0, count: m * L)
        let group = heads / kvHeads
        let scale = 1 / Float(d).squareRoot()
        q.withUnsafeBufferPointer { qp in
            keys.withUnsafeBufferPointer { kp in
                values.withUnsafeBufferPointer { vp in
                    out.withUnsafeMutableBufferPointer { op in
                        scores.withUnsafeMutableBufferPointer { sp in
                            for h in 0..<heads {
                                let g = h / group
                                // S[m, L] = scale · Q_h[m, d] · K_g[L, d]^T
                                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(L), Int32(d), scale,
                                            qp.baseAddress! + h * d, Int32(heads * d),
                                            kp.baseAddress! + g * d, Int32(kvHeads * d), 0, sp.baseAddress, Int32(L))
                                for i in 0..<m {
                                    let row = sp.baseAddress! + i * L
                                    let visible = past + i + 1
                                    var mx = -Float.infinity
                                    for j in 0..<visible { mx = max(mx, row[j]) }
                                    var sum: Float = 0
                                    for j in 0..<visible { let e = expf(row[j] - mx); row[j] = e; sum += e }
                                    let inv = 1 / sum
                                    for j in 0..<visible { row[j] *= inv }
                                    for j in visible..<L { row[j] = 0 }
                                }
                                // O_h[m, d] = S[m, L] · V_g[L, d]
                                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(d), Int32(L), 1,
                                            sp.baseAddress, Int32(L), vp.baseAddress! + g * d, Int32(kvHeads * d), 0,
                                            op.baseAddress! + h * d, Int32(heads * d))
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// x · sigmoid(x), elementwise.
    static func silu(_ x: [Float]) -> [Float] { x.map { $0 / (1 + expf(-$0)) } }

    /// Elementwise a ⊙ b.
    static func mul(_ a: [Float], _ b: [Float]) -> [Float] {
        var y = a
        y.withUnsafeMutableBufferPointer { yp in b.withUnsafeBufferPointer { bp in for i in 0..<yp.count { yp[i] *= bp[i] } } }
        return y
    }

    /// Elementwise a + b.
    static func add(_ a: [Float], _ b: [Float]) -> [Float] {
        var y = a
        y.withUnsafeMutableBufferPointer { yp in b.withUnsafeBufferPointer { bp in for i in 0..<yp.count { yp[i] += bp[i] } } }
        return y
    }

    /// Columns `from..<from+count` of x: [m, cols] as a new [m, count] array.
    static func columns(_ x: [Float], rows m: Int, cols: Int, from: Int, count: Int) -> [Float] {
        var out = [Float](repeating: 0, count: m * count)
        for r in 0..<m { out.replaceSubrange((r * count)..<((r + 1) * count), with: x[(r * cols + from)..<(r * cols + from + count)]) }
        return out
    }

    /// Writes part: [m, count] into columns `from..<from+count` of x: [m, cols].
    static func setColumns(_ x: inout [Float], rows m: Int, cols: Int, from: Int, to part: [Float]) {
        let count = part.count / max(m, 1)
        for r in 0..<m { x.replaceSubrange((r * cols + from)..<(r * cols + from + count), with: part[(r * count)..<((r + 1) * count)]) }
    }
}
