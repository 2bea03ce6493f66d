// An independent reference forward for the toy model: plain Double loops over the whole sequence, no BLAS, no cache.
import Foundation

extension ToyModel {
    /// Logits `[tokens.count, vocab]` for positions 0..<tokens.count.
    func referenceLogits(_ tokens: [Int]) -> [Float] {
        let n = tokens.count, h = hidden
        var x: [[Double]] = tokens.map { t in (0..<h).map { Double(embed[t * h + $0]) } }
        for b in blocks {
            let d = b.headDim
            let normed = x.map { rmsNorm($0, b.attnNorm) }
            var q = normed.map { matvec(b.wq, $0, bias: b.bq) }
            var k = normed.map { matvec(b.wk, $0, bias: b.bk) }
            let v = normed.map { matvec(b.wv, $0, bias: b.bv) }
            for p in 0..<n {
                q[p] = rope(q[p], heads: b.heads, d: d, theta: b.theta, position: p)
                k[p] = rope(k[p], heads: b.kvHeads, d: d, theta: b.theta, position: p)
            }
            let group = b.heads / b.kvHeads
            var attended = [[Double]](repeating: [Double](repeating: 0, count: b.heads * d), count: n)
            for p in 0..<n {
                for hd in 0..<b.heads {
                    let g = hd / group
                    var scores = (0...p).map { t in
                        (0..<d).reduce(0.0) { $0 + q[p][hd * d + $1] * k[t][g * d + $1] } / Double(d).squareRoot()
                    }
                    let mx = scores.max()!
                    scores = scores.map { Foundation.exp($0 - mx) }
                    let sum = scores.reduce(0, +)
                    for t in 0...p { for i in 0..<d { attended[p][hd * d + i] += scores[t] / sum * v[t][g * d + i] } }
                }
            }
            for p in 0..<n {
                let o = matvec(b.wo, attended[p], bias: nil)
                for i in 0..<h { x[p][i] += o[i] }
                let m = rmsNorm(x[p], b.ffnNorm)
                let g = matvec(b.gate, m, bias: nil), u = matvec(b.up, m, bias: nil)
                let f = (0..<b.ffn).map { g[$0] / (1 + Foundation.exp(-g[$0])) * u[$0] }
                let down = matvec(b.down, f, bias: nil)
                for i in 0..<h { x[p][i] += down[i] }
            }
        }
        return x.flatMap { row in matvec(head, rmsNorm(row, outNorm), bias: nil).map(Float.init) }
    }

    private func rmsNorm(_ x: [Double], _ g: [Float]) -> [Double] {
        let inv = 1 / (x.reduce(0) { $0 + $1 * $1 } / Double(x.count) + Double(eps)).squareRoot()
        return x.indices.map { x[$0] * inv * Double(g[$0]) }
    }

    /// W `[out, x.count]` times x, plus bias.
    private func matvec(_ w: [Float], _ x: [Double], bias: [Float]?) -> [Double] {
        let k = x.count, out = w.count / k
        return (0..<out).map { o in
            (0..<k).reduce(0.0) { $0 + Double(w[o * k + $1]) * x[$1] } + Double(bias?[o] ?? 0)
        }
    }

    private func rope(_ x: [Double], heads: Int, d: Int, theta: Double, position: Int) -> [Double] {
        var y = x
        let half = d / 2
        for hd in 0..<heads {
            for i in 0..<half {
                let a = Double(position) * pow(theta, -Double(2 * i) / Double(d))
                let x1 = x[hd * d + i], x2 = x[hd * d + i + half]
                y[hd * d + i] = x1 * cos(a) - x2 * sin(a)
                y[hd * d + i + half] = x2 * cos(a) + x1 * sin(a)
            }
        }
        return y
    }
}

/// Compares two logit arrays like llm.c's check_tensor: max |a - b| relative to max |expected|.
struct Comparison: CustomStringConvertible {
    var maxDiff: Float
    var scale: Float
    var tolerance: Float
    var ok: Bool { maxDiff <= tolerance * scale }
    var description: String {
        "max diff \(maxDiff), scale \(scale), tolerance \(tolerance) relative: \(ok ? "OK" : "NOT OK")"
    }

    init(_ actual: [Float], _ expected: [Float], tolerance: Float = 1e-4) {
        precondition(actual.count == expected.count, "compared arrays differ in length")
        maxDiff = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
        if actual.contains(where: { !$0.isFinite }) { maxDiff = .infinity }
        scale = max(expected.map(abs).max() ?? 0, 1e-6)
        self.tolerance = tolerance
    }
}
