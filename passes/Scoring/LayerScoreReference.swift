// The numbers layer scorers compare: KL against the module a pass started from, next-token NLL, and cosine
// similarity between residual-stream rows.
import Foundation
import PareInterpreter

/// The next-token distributions of the module a pass started from, on the calibration set, held so that each
/// candidate's KL(P_original ‖ Q) costs one exponential per logit:
/// KL = Σ p log p - Σ p (q - lse q) = Σ p log p - Σ p q + lse(q) · Σ p, with Σ p log p computed once per position.
public struct ReferenceDistribution {
    /// Per sequence, P: `[length, vocab]`.
    public private(set) var probabilities: [Tensor]
    /// Per sequence and position, Σ p log p and Σ p (1 up to rounding).
    private var plogp: [[Double]] = []
    private var mass: [[Double]] = []

    /// Converts logits (per sequence, `[length, vocab]`) to probabilities, in place when the caller gives them up
    /// (`ReferenceDistribution(logits: probe.takeLogits())`): for a large vocabulary they are the largest buffer.
    public init(logits: consuming [Tensor]) {
        var l = consume logits
        for s in l.indices {
            let rows = l[s].rows, n = l[s].cols
            var plogpRow = [Double](repeating: 0, count: rows), massRow = [Double](repeating: 0, count: rows)
            l[s].data.withUnsafeMutableBufferPointer { p in
                for r in 0..<rows {
                    let lse = logSumExp(UnsafeMutableBufferPointer(rebasing: p[(r * n)..<((r + 1) * n)]))
                    var e = 0.0, m = 0.0
                    for j in (r * n)..<((r + 1) * n) {
                        // Sums over the float32 P that is stored, so the three terms cancel consistently.
                        let lp = Double(p[j]) - lse
                        p[j] = Float(exp(lp))
                        let pj = Double(p[j])
                        if pj > 0 { e += pj * lp }
                        m += pj
                    }
                    plogpRow[r] = e
                    massRow[r] = m
                }
            }
            plogp.append(plogpRow)
            mass.append(massRow)
        }
        probabilities = l
    }

    /// Positions compared.
    public var positions: Int { probabilities.reduce(0) { $0 + $1.rows } }

    /// The sum over the rows of sequence `s` of KL(P ‖ Q), Q given by `logits` (`[length, vocab]`, same vocabulary).
    /// Each position's KL is clamped at 0 (rounding), as the pass manager's KL checker does.
    public func klSum(sequence s: Int, logits q: Tensor) -> Double {
        let p = probabilities[s]
        let n = p.cols
        var total = 0.0
        p.data.withUnsafeBufferPointer { pp in
            q.data.withUnsafeBufferPointer { qp in
                for r in 0..<min(p.rows, q.rows) {
                    let qRow = UnsafeBufferPointer(rebasing: qp[(r * n)..<((r + 1) * n)])
                    let lseQ = logSumExp(qRow)
                    var pq = 0.0
                    for j in 0..<n { pq += Double(pp[r * n + j]) * Double(qRow[j]) }
                    total += max(plogp[s][r] - pq + lseQ * mass[s][r], 0)
                }
            }
        }
        return total
    }

    /// Mean KL(P ‖ Q) over every position, Q given per sequence by `logits`.
    public func meanKL(_ logits: [Tensor]) -> Double {
        var sum = 0.0
        for (s, q) in logits.enumerated() { sum += klSum(sequence: s, logits: q) }
        return sum / Double(max(positions, 1))
    }
}

/// log Σ exp(x), computed stably in double precision.
func logSumExp<C: Collection>(_ x: C) -> Double where C.Element == Float {
    let m = x.max() ?? 0
    guard m.isFinite else { return Double(m) }
    var s = 0.0
    for v in x { s += Double(expf(v - m)) }
    return Double(m) + log(s)
}

/// Summed next-token negative log-likelihood of `tokens` under `logits` (`[length, vocab]`): row t predicts token
/// t + 1, so a sequence of n tokens gives n - 1 terms. Returns the sum and the number of terms.
func nextTokenNLL(tokens: [Int], logits: Tensor) -> (sum: Double, count: Int) {
    let n = logits.cols
    var sum = 0.0, count = 0
    logits.data.withUnsafeBufferPointer { lp in
        for t in 0..<max(0, min(tokens.count, logits.rows) - 1) {
            let row = UnsafeBufferPointer(rebasing: lp[(t * n)..<((t + 1) * n)])
            sum += logSumExp(row) - Double(row[tokens[t + 1]])
            count += 1
        }
    }
    return (sum, count)
}

/// The cosine similarity of row `r` of `a` and of `b` (`[length, hidden]` each); 1 when both rows are zero, 0 when one is.
func rowCosine(_ a: Tensor, _ b: Tensor, row r: Int) -> Double {
    let n = a.cols
    var dot = 0.0, na = 0.0, nb = 0.0
    for j in (r * n)..<((r + 1) * n) {
        let x = Double(a.data[j]), y = Double(b.data[j])
        dot += x * y
        na += x * x
        nb += y * y
    }
    if na == 0 && nb == 0 { return 1 }
    if na == 0 || nb == 0 { return 0 }
    return min(1, max(-1, dot / (na.squareRoot() * nb.squareRoot())))
}
