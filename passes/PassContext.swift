// What a pass may use besides the module: the weight store, calibration data, held-out text, and a progress sink.
import Foundation
import PareIR
import PareInterpreter
import PareTokenizer

/// Calibration data: token sequences in the *source* vocabulary's ids (before any vocabulary pruning),
/// so that every module derived from one checkpoint reads the same text.
public struct Calibration: Sendable {
    public var sequences: [[Int]]
    /// Where the text came from and how it was cut: `calibration.txt, 8 x 128 tokens`.
    public var origin: String
    /// The text of each window, when known. A module with a pruned vocabulary re-tokenizes it with its own
    /// tokenizer (see `sequences(for:)`), so every calibration position stays usable after `vocab-prune`.
    public var texts: [String]?

    public init(sequences: [[Int]], origin: String, texts: [String]? = nil) {
        self.sequences = sequences
        self.origin = origin
        self.texts = texts
    }

    /// Total tokens.
    public var tokenCount: Int { sequences.reduce(0) { $0 + $1.count } }
}

/// Held-out text: pieces of code and prose that no pass chose anything from. A pass that changes the tokenizer is
/// checked on it the way a user's prompt meets the model: each module reads each piece with its own tokenizer
/// (see `measureHeldOut`).
public struct HeldOutText: Sendable {
    /// The pieces, in file order.
    public var texts: [String]
    /// Where they came from and how they were cut: `data/heldout/mixed.txt (sha256 ...), 8 x 1536 of its 208513 bytes`.
    public var origin: String

    /// Held-out pieces and their provenance.
    public init(texts: [String], origin: String) {
        self.texts = texts
        self.origin = origin
    }

    /// Total bytes of the pieces.
    public var byteCount: Int { texts.reduce(0) { $0 + $1.utf8.count } }
}

/// A pass's access to the world beyond the module. Pruning passes need `store` and `calibration` to score
/// candidates with the interpreter; structural passes (`dce`) need neither.
public final class PassContext {
    /// Materialised weights, shared by every candidate module.
    public let store: WeightStore?
    public let calibration: Calibration?
    /// Held-out text for passes that change the tokenizer: the pass manager checks them on it, and vocab-prune
    /// reports its removed mass and changed tokenizations on it.
    public let heldOut: HeldOutText?
    /// Progress lines for long work (`layer-prune: scoring 21 candidates, 12 s left`).
    public var progress: (String) -> Void
    /// Prefix of the metadata keys under which the running pass records its decisions (`decision.2`); the pass
    /// manager sets it before each pass. See `record`.
    public var recordPrefix = "decision.0"

    /// A context over these data; every part is optional.
    public init(store: WeightStore? = nil, calibration: Calibration? = nil, heldOut: HeldOutText? = nil,
                progress: @escaping (String) -> Void = { _ in }) {
        self.store = store
        self.calibration = calibration
        self.heldOut = heldOut
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

    /// The calibration sequences in `m`'s token ids (see `Calibration.sequences(for:)`).
    public func sequences(for m: Module, pass: String = "kl") throws -> [[Int]] {
        try requireCalibration(pass).sequences(for: m)
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

    /// KL(before ‖ after) over the calibration set, both fed the same tokens (see `Calibration.comparison`).
    public func kl(before: Module, after: Module, pass: String = "kl") throws -> KLStatistics {
        let pairs = try requireCalibration(pass).comparison(before: before, after: after)
        let a = try interpreter(before, pass: pass), b = try interpreter(after, pass: pass)
        return try compareOnCalibration(pairs, before: before, after: after,
                                        beforeLogits: { _, ids in try a.forward(ids) }, afterLogits: { _, ids in try b.forward(ids) })
    }
}

extension Calibration {
    /// The calibration sequences in `m`'s token ids. For a module with a pruned vocabulary, each window's text is
    /// tokenized with that module's own (pruned) tokenizer and cut to the window's length, so no position is lost;
    /// without the text or the pruned tables (tables whose size differs from the id map), each sequence is cut at
    /// the first token the vocabulary lacks.
    public func sequences(for m: Module) -> [[Int]] {
        guard let idMap = m.vocabulary.idMap else { return sequences }
        if let texts, let bpe = m.vocabulary.bpe, bpe.tokens.count == idMap.count,
           let tokenizer = PrunedTokenizers.shared.tokenizer(idMap, bpe) {
            return zip(texts, sequences).map { text, seq in Array(tokenizer.encode(text).prefix(seq.count)) }.filter { !$0.isEmpty }
        }
        let mapper = CalibrationIDMapper(m.vocabulary)
        return sequences.map(mapper.map).filter { !$0.isEmpty }
    }

    /// The token sequences on which `before` and `after` are compared: `after`'s sequences, and the same tokens in
    /// `before`'s ids (every token `after` has, `before` has too, when `after` is a pruning of it).
    public func comparison(before: Module, after: Module) throws -> [(before: [Int], after: [Int])] {
        let inAfter = sequences(for: after)
        guard let keep = try vocabularyMapping(from: before.vocabulary, to: after.vocabulary) else {
            return inAfter.map { ($0, $0) }
        }
        return inAfter.map { seq in (seq.map { keep[$0] }, seq) }
    }
}

/// Tokenizers of pruned vocabularies, built once per (id map, BPE tables): two checkpoints pruned to the same
/// id list in one process do not share a tokenizer.
final class PrunedTokenizers: @unchecked Sendable {
    static let shared = PrunedTokenizers()
    private var built: [IndexList: [(bpe: BPEModel, tokenizer: BPETokenizer)]] = [:]
    private let lock = NSLock()

    func tokenizer(_ idMap: IndexList, _ bpe: BPEModel) -> BPETokenizer? {
        if let t = lock.withLock({ built[idMap]?.first { $0.bpe == bpe }?.tokenizer }) { return t }
        guard let t = try? BPETokenizer(model: bpe) else { return nil }
        lock.withLock { built[idMap, default: []].append((bpe, t)) }
        return t
    }
}
