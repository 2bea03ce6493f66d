// Token mass: how much next-token probability a model puts on each id over some text, the statistic
// `vocab-prune{select=mass}` keeps by (and the one its removed-mass statistic reports).
//
// Why the sum of softmax probabilities: at one position the probability of token t is the chance a sampled
// continuation is t, so the sum over positions is the expected number of times the model would emit t there, and
// the share of the total a set S carries is exactly 1 - (mean mass the model puts outside S), the removed mass the
// KL report measures. Keeping the smallest set that carries a share s of it bounds the removed mass on that text by
// 1 - s. A max criterion (any position where t is likely) keeps tokens the model is confident in once; a top-k one
// ignores how much mass sits in the tail; neither bounds removed mass.
import Foundation
import PareIR
import PareInterpreter

/// Next-token probability mass per token id, summed over positions. A scorer: `vocab-prune{select=mass}` keeps the
/// smallest set carrying a share of the total (`smallestSet(carrying:)`).
public struct TokenMass: Sendable, Equatable {
    /// [vocabulary] summed probability of each id over the positions added.
    public private(set) var mass: [Double]
    /// Positions added (each contributes a total mass of 1).
    public private(set) var positions = 0

    /// No positions yet, over ids 0..<vocabularySize.
    public init(vocabularySize: Int) { mass = [Double](repeating: 0, count: vocabularySize) }

    /// Adds one position's logits `[vocabulary]` (softmax taken here, in double precision).
    public mutating func add(logits row: ArraySlice<Float>) {
        precondition(row.count == mass.count, "logits row of \(row.count) for a vocabulary of \(mass.count)")
        let base = row.startIndex
        var top = -Float.infinity
        for x in row where x > top { top = x }
        var e = [Double](repeating: 0, count: row.count)
        var sum = 0.0
        for j in 0..<row.count {
            let v = Foundation.exp(Double(row[base + j] - top))
            e[j] = v
            sum += v
        }
        let inv = 1 / sum
        for j in 0..<row.count { mass[j] += e[j] * inv }
        positions += 1
    }

    /// Adds every row of a logits tensor `[positions, vocabulary]`.
    public mutating func add(logits t: Tensor) {
        for r in 0..<t.rows { add(logits: t.row(r)) }
    }

    /// The mass `module` puts on each of its ids over `sequences` (its own ids), run by the interpreter over `store`.
    public static func measure(_ module: Module, store: WeightStore, sequences: [[Int]],
                               progress: (Int) -> Void = { _ in }) throws -> TokenMass {
        let interpreter = try Interpreter(module: module, store: store)
        var m = TokenMass(vocabularySize: module.vocabulary.size)
        for (i, s) in sequences.enumerated() where !s.isEmpty {
            m.add(logits: try interpreter.forward(s))
            progress(i + 1)
        }
        return m
    }

    /// Total mass (= positions, up to rounding).
    public var total: Double { mass.reduce(0, +) }

    /// The share of the total mass the ids in `keep` ([vocabulary] mask) carry; 1 when nothing was added.
    public func share(keeping keep: [Bool]) -> Double {
        let t = total
        guard t > 0 else { return 1 }
        var s = 0.0
        for (j, k) in keep.enumerated() where k && j < mass.count { s += mass[j] }
        return s / t
    }

    /// The smallest set of ids whose mass reaches `share` of the total: ids by decreasing mass, ties broken by the
    /// lower id, taken until the running sum reaches the share. Returned increasing. Deterministic.
    public func smallestSet(carrying share: Double) -> [Int] {
        let t = total
        guard t > 0, share > 0 else { return [] }
        let order = mass.indices.sorted { mass[$0] != mass[$1] ? mass[$0] > mass[$1] : $0 < $1 }
        let goal = Swift.min(share, 1) * t
        var sum = 0.0
        var taken: [Int] = []
        for j in order {
            if sum >= goal { break }
            sum += mass[j]
            taken.append(j)
        }
        return taken.sorted()
    }
}
