// What a pass may use besides the module: the weight store, calibration data, and a progress sink.
import Foundation
import PareIR
import PareInterpreter

/// Calibration data: token sequences in the *source* vocabulary's ids (before any vocabulary pruning),
/// so that every module derived from one checkpoint reads the same text.
public struct Calibration: Sendable {
    public var sequences: [[Int]]
    /// Where the text came from and how it was cut: `calibration.txt, 8 x 128 tokens`.
    public var origin: String

    public init(sequences: [[Int]], origin: String) {
        self.sequences = sequences
        self.origin = origin
    }

    /// Total tokens.
    public var tokenCount: Int { sequences.reduce(0) { $0 + $1.count } }
}

/// A pass's access to the world beyond the module. Pruning passes need `store` and `calibration` to score
/// candidates with the interpreter; structural passes (`dce`) need neither.
public final class PassContext {
    /// Materialised weights, shared by every candidate module.
    public let store: WeightStore?
    public let calibration: Calibration?
    /// Progress lines for long work (`layer-prune: scoring 21 candidates, 12 s left`).
    public var progress: (String) -> Void
    /// Prefix of the metadata keys under which the running pass records its decisions (`decision.2`); the pass
    /// manager sets it before each pass. See `record`.
    public var recordPrefix = "decision.0"

    public init(store: WeightStore? = nil, calibration: Calibration? = nil, progress: @escaping (String) -> Void = { _ in }) {
        self.store = store
        self.calibration = calibration
        self.progress = progress
    }

    /// Records one decision of the running pass in module metadata, as `<recordPrefix>.<key> = value`
    /// (kept indices, seeds, scores), so the dump shows it and a result can be reproduced and reviewed.
    public func record(_ r: inout Rewriter, _ key: String, _ value: Attribute) {
        r.setMetadata(key: "\(recordPrefix).\(key)", value: value)
    }

    /// A context with neither weights nor calibration data, for structural passes and golden tests.
    public static var structural: PassContext { PassContext() }

    /// The store, or an error naming the pass that needs it.
    public func requireStore(_ pass: String) throws -> WeightStore {
        guard let store else { throw PassError.needsData(pass: pass, what: "model weights") }
        return store
    }

    /// The calibration set, or an error naming the pass that needs it.
    public func requireCalibration(_ pass: String) throws -> Calibration {
        guard let calibration else { throw PassError.needsData(pass: pass, what: "calibration data") }
        return calibration
    }

    /// The calibration sequences in `m`'s token ids: each is cut at the first token `m`'s vocabulary lacks.
    public func sequences(for m: Module, pass: String = "kl") throws -> [[Int]] {
        let cal = try requireCalibration(pass)
        guard let map = m.vocabulary.idMap else { return cal.sequences }
        var index: [Int: Int] = [:]
        for (new, old) in map.enumerated() { index[old] = new }
        return cal.sequences.map { seq in
            var out: [Int] = []
            for t in seq { guard let n = index[t] else { break }; out.append(n) }
            return out
        }.filter { !$0.isEmpty }
    }

    /// An interpreter for `m` over the shared store.
    public func interpreter(_ m: Module, pass: String = "kl") throws -> Interpreter {
        try Interpreter(module: m, store: try requireStore(pass))
    }

    /// `m`'s logits on each calibration sequence (`[length, vocab]` each).
    public func logits(_ m: Module, pass: String = "kl") throws -> [Tensor] {
        let interp = try interpreter(m, pass: pass)
        return try sequences(for: m, pass: pass).map { try interp.forward($0) }
    }

    /// KL(before ‖ after) over the calibration set. `beforeLogits` may be passed when already computed.
    public func kl(before: Module, after: Module, beforeLogits: [Tensor]? = nil, pass: String = "kl") throws -> KLStatistics {
        let p = try beforeLogits ?? logits(before, pass: pass)
        let q = try logits(after, pass: pass)
        return try klStatistics(before: before, beforeLogits: p, after: after, afterLogits: q)
    }
}

/// KL statistics from logits already computed on the same calibration set (sequences may be shorter for `after`
/// when its vocabulary lacks a token; positions are compared up to the shorter length).
public func klStatistics(before: Module, beforeLogits p: [Tensor], after: Module, afterLogits q: [Tensor]) throws -> KLStatistics {
    var acc = KLAccumulator(keep: try vocabularyMapping(from: before.vocabulary, to: after.vocabulary))
    for (a, b) in zip(p, q) {
        for r in 0..<min(a.rows, b.rows) { acc.add(before: a.row(r), after: b.row(r)) }
    }
    return acc.statistics()
}
