// The magnitude scorer: a channel matters as much as the weights that carry it, per block.
import PareIR
import PareInterpreter

/// Scores channel `i` of each block by `‖gate_i ⊙ γ‖ · ‖up_i ⊙ γ‖ · ‖down_:,i‖`: the norms of its gate row, up row
/// and down column, where `γ` `[hidden]` is the weight of the RMS norm feeding the FFN (folded in, since gate and up
/// only ever see its output; without it the norms weigh every input column alike). The product (not a sum) follows
/// the channel's path: for small pre-activations `silu(g·x)·(u·x)·d ≈ ½(g·x)(u·x)d`, so the contribution scales with
/// all three norms, and a channel any one of the three nearly zeroes contributes nearly nothing. Needs weights only
/// (no calibration data).
public struct MagnitudeNeuronScorer: NeuronScorer {
    /// `magnitude`.
    public let name = "magnitude"

    /// Creates the scorer.
    public init() {}

    /// Per block, `[ffn]` scores from the materialised gate, up and down weights.
    public func scores(_ module: Module, context: PassContext) throws -> NeuronScores {
        let store = try context.requireStore("ffn-prune{strategy=magnitude}")
        var out: NeuronScores = [:]
        for a in try module.blockAnatomy() {
            let w = try FFNChannelWeights(a, module: module, store: store)
            let g = ChannelNorms.rows(w.gate, gain: w.inputGain)    // [ffn]
            let u = ChannelNorms.rows(w.up, gain: w.inputGain)      // [ffn]
            let d = ChannelNorms.columns(w.down)    // [ffn]
            out[a.index] = (0..<w.width).map { g[$0] * u[$0] * d[$0] }
        }
        return out
    }
}
