// Layer scorers: how much removing one transformer block damages the model, by one of four criteria. Lower is
// more removable. Scoring is separate from slicing: `layer-prune` picks blocks with any of these.
import Foundation
import PareInterpreter

/// The criteria `layer-prune{criterion=...}` accepts.
public enum LayerCriterion: String, CaseIterable, Sendable {
    /// Mean KL(P_original ‖ Q_candidate) over calibration positions (Flab-Pruner, Algorithm 2). The default.
    case kl
    /// Block influence, 1 - mean cosine(input, output) over calibration tokens (ShortGPT).
    case bi
    /// Angular distance arccos(cosine(input, output)) / π at the last token of each sequence, single block (UIDL, n = 1).
    case angular
    /// Calibration perplexity of the candidate, exp(mean next-token NLL) (SLEB).
    case ppl
}

/// Scores candidate blocks of the module a `LayerProbe` captured. A new criterion is a new scorer.
public protocol LayerScorer {
    /// The criterion it implements.
    var criterion: LayerCriterion { get }
    /// True when each candidate costs a run of the blocks after it (kl, ppl); false when the probe's one capture
    /// run is all the scorer reads (bi, angular).
    var runsCandidates: Bool { get }
    /// The score of each candidate (positions into `probe.blocks`), in the order given; lower = less damage.
    /// `done(k)` is called after the k-th candidate (1-based) is scored.
    func scores(_ candidates: [Int], probe: LayerProbe, done: (Int) -> Void) throws -> [Double]
}

extension LayerCriterion {
    /// The scorer for this criterion; `reference` (the distributions of the module the pass started from) is
    /// evaluated only for `kl`.
    public func scorer(reference: () throws -> ReferenceDistribution) rethrows -> any LayerScorer {
        switch self {
        case .kl: return KLLayerScorer(reference: try reference())
        case .bi: return BlockInfluenceScorer()
        case .angular: return AngularDistanceScorer()
        case .ppl: return PerplexityScorer()
        }
    }
}

/// `kl`: mean over calibration positions of KL(P_original ‖ Q), Q the current module with the candidate bypassed,
/// P the module the pass started from (not the current one: the budget is on the damage of the whole pass).
public struct KLLayerScorer: LayerScorer {
    /// `.kl`.
    public let criterion = LayerCriterion.kl
    /// True: one run of the blocks after each candidate.
    public let runsCandidates = true
    /// P_original.
    public let reference: ReferenceDistribution

    /// A scorer against `reference`.
    public init(reference: ReferenceDistribution) { self.reference = reference }

    /// One score per candidate, in order (see `LayerScorer.scores`).
    public func scores(_ candidates: [Int], probe: LayerProbe, done: (Int) -> Void) throws -> [Double] {
        let positions = Double(max(reference.positions, 1))
        return try candidates.enumerated().map { k, c in
            var sum = 0.0
            for s in probe.sequences.indices { sum += reference.klSum(sequence: s, logits: try probe.bypassLogits(c, sequence: s)) }
            done(k + 1)
            return sum / positions
        }
    }
}

/// `ppl`: the candidate's perplexity on the calibration set, exp(mean NLL of each next token) (SLEB).
public struct PerplexityScorer: LayerScorer {
    /// `.ppl`.
    public let criterion = LayerCriterion.ppl
    /// True: one run of the blocks after each candidate.
    public let runsCandidates = true

    /// The scorer (it has no parameters).
    public init() {}

    /// One score per candidate, in order (see `LayerScorer.scores`).
    public func scores(_ candidates: [Int], probe: LayerProbe, done: (Int) -> Void) throws -> [Double] {
        try candidates.enumerated().map { k, c in
            var sum = 0.0, count = 0
            for (s, tokens) in probe.sequences.enumerated() {
                let nll = nextTokenNLL(tokens: tokens, logits: try probe.bypassLogits(c, sequence: s))
                sum += nll.sum
                count += nll.count
            }
            done(k + 1)
            return exp(sum / Double(max(count, 1)))
        }
    }
}

/// `bi`: ShortGPT's block influence, 1 - E[cos(x_in, x_out)] over every calibration token, where x_in and x_out are
/// the residual stream entering and leaving the block. A block that barely turns its input is removable.
public struct BlockInfluenceScorer: LayerScorer {
    /// `.bi`.
    public let criterion = LayerCriterion.bi
    /// False: the capture run gives every block's input and output.
    public let runsCandidates = false

    /// The scorer (it has no parameters).
    public init() {}

    /// One score per candidate, in order (see `LayerScorer.scores`).
    public func scores(_ candidates: [Int], probe: LayerProbe, done: (Int) -> Void) throws -> [Double] {
        try candidates.enumerated().map { k, c in
            var sum = 0.0, count = 0
            for s in probe.sequences.indices {
                let x = try probe.input(c, sequence: s), y = try probe.output(c, sequence: s)
                for r in 0..<x.rows { sum += rowCosine(x, y, row: r) }
                count += x.rows
            }
            done(k + 1)
            return 1 - sum / Double(max(count, 1))
        }
    }
}

/// `angular`: UIDL's angular distance between a block's input and output, arccos(cos) / π, at the final token of
/// each sequence (the token that has seen the whole context, as in the paper), averaged over sequences. This is the
/// single-block case (n = 1) of the paper's distance between layers ℓ and ℓ + n.
public struct AngularDistanceScorer: LayerScorer {
    /// `.angular`.
    public let criterion = LayerCriterion.angular
    /// False: the capture run gives every block's input and output.
    public let runsCandidates = false

    /// The scorer (it has no parameters).
    public init() {}

    /// One score per candidate, in order (see `LayerScorer.scores`).
    public func scores(_ candidates: [Int], probe: LayerProbe, done: (Int) -> Void) throws -> [Double] {
        try candidates.enumerated().map { k, c in
            var sum = 0.0
            for s in probe.sequences.indices {
                let x = try probe.input(c, sequence: s), y = try probe.output(c, sequence: s)
                sum += acos(rowCosine(x, y, row: x.rows - 1)) / Double.pi
            }
            done(k + 1)
            return sum / Double(max(probe.sequences.count, 1))
        }
    }
}
