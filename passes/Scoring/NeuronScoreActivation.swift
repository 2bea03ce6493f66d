// The activation scorer (Wanda-style, structured): a channel matters as much as what it adds to the residual
// stream on calibration data, per block.
import PareIR
import PareInterpreter

/// Scores channel `i` of each block by `mean_t |h_t,i| · ‖down_:,i‖`, where `h = silu(gate·x) * up·x` is the FFN's
/// `mul` output on calibration token `t`: the average size of what the channel writes into the residual stream
/// (Wanda's |weight| x activation-norm, for a whole channel). One forward per calibration sequence captures every
/// block's `mul` at once.
public struct ActivationNeuronScorer: NeuronScorer {
    /// `activation`.
    public let name = "activation"

    /// Creates the scorer.
    public init() {}

    /// Per block, `[ffn]` scores from calibration activations and the down weights.
    public func scores(_ module: Module, context: PassContext) throws -> NeuronScores {
        try scoresAndLogits(module, context: context).scores
    }

    /// The scores, and `module`'s logits on each of `context.sequences(for: module)` (`[length, vocab]` each),
    /// which the same forward produced: a caller that needs both runs the model once.
    public func scoresAndLogits(_ module: Module, context: PassContext) throws -> (scores: NeuronScores, logits: [Tensor]) {
        let pass = "ffn-prune{strategy=activation}"
        let store = try context.requireStore(pass)
        let sequences = try context.sequences(for: module, pass: pass)
        guard !sequences.isEmpty else { throw PassError.needsData(pass: pass, what: "non-empty calibration sequences") }
        let anatomy = try module.blockAnatomy()
        // The mul feeding each block's down projection: h = silu(gate) * up, [?, ffn].
        var mulOf: [Int: Value] = [:]
        for a in anatomy {
            guard let h = a.down.operands.first?.value else { throw NeuronScoreError.missingWeight(block: a.index, role: "down") }
            mulOf[a.index] = h
        }
        let widths = Dictionary(uniqueKeysWithValues: anatomy.map { ($0.index, module.block($0.index)?.ffn ?? 0) })

        let interpreter = try Interpreter(module: module, store: store)
        var sums: [Int: [Double]] = widths.mapValues { [Double](repeating: 0, count: $0) }
        var tokens = 0
        var logits: [Tensor] = []
        for seq in sequences {
            var cache = interpreter.makeCache()
            let run = try interpreter.run(seq, capture: Set(mulOf.values), cache: &cache)
            logits.append(run.logits)
            tokens += seq.count
            for (b, v) in mulOf {
                let width = widths[b] ?? 0
                guard let h = run.captured[v], h.shape == [seq.count, width] else {
                    throw NeuronScoreError.activationShape(block: b, expected: width, found: run.captured[v]?.shape ?? [])
                }
                var s = sums[b] ?? []
                h.data.withUnsafeBufferPointer { p in
                    for t in 0..<seq.count { for i in 0..<width { s[i] += Double(abs(p[t * width + i])) } }
                }
                sums[b] = s
            }
        }

        var out: NeuronScores = [:]
        for a in anatomy {
            let w = try FFNChannelWeights(a, module: module, store: store)
            let d = ChannelNorms.columns(w.down)    // [ffn]
            let s = sums[a.index] ?? []
            guard s.count == d.count else { throw NeuronScoreError.activationShape(block: a.index, expected: d.count, found: [s.count]) }
            out[a.index] = (0..<d.count).map { s[$0] / Double(tokens) * d[$0] }
        }
        return (out, logits)
    }
}
