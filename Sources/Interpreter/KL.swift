// KL divergence between two modules' next-token distributions, with llama.cpp-style statistics.
import Foundation
import PareIR

/// Statistics of per-position KL(P_before ‖ Q_after) over calibration tokens.
public struct KLStatistics: Sendable, Codable, Equatable {
    /// Positions compared.
    public var positions: Int
    public var mean: Double
    public var median: Double
    public var p99: Double
    public var max: Double
    /// Fraction of positions where both models' most likely token is the same (over kept tokens).
    public var top1Agreement: Double
    /// Mean and largest probability mass P put on tokens the after-module no longer has (0 when the vocabulary is unchanged).
    public var removedMassMean: Double
    public var removedMassMax: Double

    enum CodingKeys: String, CodingKey {
        case positions, mean, median, p99, max
        case top1Agreement = "top1_agreement", removedMassMean = "removed_mass_mean", removedMassMax = "removed_mass_max"
    }

    /// `KL mean 0.0123 median 0.0051 p99 0.12 max 0.4, top-1 97.3% over 1024 positions`.
    public var summary: String {
        var s = String(format: "KL mean %.4g, median %.4g, p99 %.4g, max %.4g; top-1 agreement %.1f%% over %d positions",
                       mean, median, p99, max, top1Agreement * 100, positions)
        if removedMassMax > 0 { s += String(format: "; removed-token mass mean %.3g, max %.3g", removedMassMean, removedMassMax) }
        return s
    }
}

/// Accumulates per-position KL(P ‖ Q). P is renormalised over the tokens the after-vocabulary kept.
public struct KLAccumulator {
    private var kls: [Double] = []
    private var agree = 0
    private var removed: [Double] = []
    /// For each after-id, the before-id it corresponds to; nil when both vocabularies are the same.
    public let keep: [Int]?

    public init(keep: [Int]?) { self.keep = keep }

    /// Adds one position: `before` has the before-vocabulary's logits, `after` the after-vocabulary's.
    public mutating func add(before p: ArraySlice<Float>, after q: ArraySlice<Float>) {
        let pb = p.startIndex, qb = q.startIndex
        let n = q.count
        @inline(__always) func pl(_ j: Int) -> Double { Double(p[pb + (keep?[j] ?? j)]) }
        // log-sum-exp of P over all tokens and over kept tokens; of Q over its tokens.
        let pmaxAll = Double(p.max() ?? 0)
        var sAll = 0.0
        for i in p.indices { sAll += Foundation.exp(Double(p[i]) - pmaxAll) }
        var pmax = -Double.infinity, qmax = -Double.infinity
        var pArg = 0, qArg = 0
        for j in 0..<n {
            let a = pl(j), b = Double(q[qb + j])
            if a > pmax { pmax = a; pArg = j }
            if b > qmax { qmax = b; qArg = j }
        }
        var sp = 0.0, sq = 0.0
        for j in 0..<n { sp += Foundation.exp(pl(j) - pmax); sq += Foundation.exp(Double(q[qb + j]) - qmax) }
        let lseP = pmax + Foundation.log(sp), lseQ = qmax + Foundation.log(sq)
        var kl = 0.0
        for j in 0..<n {
            let lp = pl(j) - lseP
            kl += Foundation.exp(lp) * (lp - (Double(q[qb + j]) - lseQ))
        }
        kls.append(Swift.max(kl, 0))
        if pArg == qArg { agree += 1 }
        // Mass P puts on kept tokens = exp(lseP - lseAll).
        removed.append(keep == nil ? 0 : Swift.max(0, 1 - Foundation.exp(lseP - (pmaxAll + Foundation.log(sAll)))))
    }

    /// The statistics so far.
    public func statistics() -> KLStatistics {
        let sorted = kls.sorted()
        func quantile(_ q: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            return sorted[Swift.min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded()))]
        }
        let n = Double(Swift.max(kls.count, 1))
        return KLStatistics(positions: kls.count, mean: kls.reduce(0, +) / n, median: quantile(0.5), p99: quantile(0.99),
                            max: sorted.last ?? 0, top1Agreement: Double(agree) / n,
                            removedMassMean: removed.reduce(0, +) / n, removedMassMax: removed.max() ?? 0)
    }
}

/// The source-vocabulary ids a vocabulary holds, in its id order (identity when it was never pruned).
public func sourceIDs(_ v: Vocabulary) -> [Int] { v.idMap.map { Array($0) } ?? Array(0..<v.size) }

/// For each id of `after`, the id of the same token in `before`; nil when the two are the same vocabulary.
/// Throws when `after` holds a token `before` lacks (it is not a pruning of it).
public func vocabularyMapping(from before: Vocabulary, to after: Vocabulary) throws -> [Int]? {
    if before.idMap == after.idMap && before.size == after.size { return nil }
    var index: [Int: Int] = [:]
    for (i, s) in sourceIDs(before).enumerated() { index[s] = i }
    return try sourceIDs(after).map { s in
        guard let i = index[s] else { throw InterpreterError.badOp("vocabulary of the second module has source token \(s), which the first lacks") }
        return i
    }
}
