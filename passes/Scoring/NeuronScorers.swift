// Neuron scorers: how important each FFN channel of each block is. Scoring is separate from slicing: a scorer
// returns numbers per block, `keepHighest` turns them into kept channels, and ffn-prune slices gate/up/down.
import Foundation
import PareIR
import PareInterpreter

/// Importance of every FFN channel of every block, by block index: `scores[b][i]` is channel `i` of block `b`, in
/// the channel numbering of the module scored (after any earlier pruning). Higher means more important.
public typealias NeuronScores = [Int: [Double]]

/// A criterion that scores the FFN channels of each block on its own, so two blocks may keep different channels
/// (unlike picking the same positions in every layer). A new criterion is a new scorer, not a new pass.
public protocol NeuronScorer {
    /// The criterion's name, which is also its `ffn-prune{strategy=...}` spelling: `magnitude`, `activation`.
    var name: String { get }
    /// Scores every channel of every block of `module`, reading weights (and calibration data) from `context`.
    func scores(_ module: Module, context: PassContext) throws -> NeuronScores
}

/// The `count` channels with the highest scores, in ascending channel order. Ties keep the lower channel; a NaN
/// score counts as the lowest.
public func keepHighest(_ scores: [Double], count: Int) -> IndexList {
    let order = scores.indices.sorted { i, j in
        let a = scores[i].isNaN ? -Double.infinity : scores[i], b = scores[j].isNaN ? -Double.infinity : scores[j]
        return a != b ? a > b : i < j
    }
    return IndexList(order.prefix(max(0, count)).sorted())
}

/// Why a block's FFN could not be scored.
public enum NeuronScoreError: Error, LocalizedError, Equatable {
    /// An FFN weight does not have the shape the block's FFN width implies.
    case weightShape(parameter: String, expected: [Int], found: [Int])
    /// A block op reads a parameter that is not declared, or reads none where a weight is needed.
    case missingWeight(block: Int, role: String)
    /// A captured activation does not have the block's FFN width.
    case activationShape(block: Int, expected: Int, found: [Int])

    public var errorDescription: String? {
        switch self {
        case .weightShape(let p, let e, let f):
            return "neuron scoring: @\(p) has shape \(f), expected \(e) (gate and up [ffn, hidden], down [hidden, ffn])"
        case .missingWeight(let b, let role):
            return "neuron scoring: block \(b)'s FFN \(role) projection has no declared weight"
        case .activationShape(let b, let e, let f):
            return "neuron scoring: block \(b)'s FFN activation has shape \(f), expected [?, \(e)]"
        }
    }
}

/// One block's FFN weights, materialised through the weight store (views applied):
/// gate and up `[ffn, hidden]`, down `[hidden, ffn]`.
struct FFNChannelWeights {
    var gate: Tensor
    var up: Tensor
    var down: Tensor
    /// The RMS-norm weight `[hidden]` that scales the FFN's input, when the input is a norm with a weight (it is
    /// in llama and qwen2): the gain each input column of gate and up actually sees.
    var inputGain: Tensor?

    /// Reads block `a`'s gate, up and down weights from `store`, checking they agree on the FFN width.
    init(_ a: BlockAnatomy, module m: Module, store: WeightStore) throws {
        func weight(_ op: Op, _ role: String) throws -> Tensor {
            guard op.operands.count > 1, let name = op.operands[1].param, let p = m.parameter(name) else {
                throw NeuronScoreError.missingWeight(block: a.index, role: role)
            }
            return try store.tensor(for: p)
        }
        gate = try weight(a.gate, "gate")
        up = try weight(a.up, "up")
        down = try weight(a.down, "down")
        let ffn = gate.rows, hidden = gate.cols
        if let x = a.gate.operands.first?.value, let norm = m.function.ops.first(where: { $0.result == x }), norm.kind == .rmsNorm,
           let name = norm.paramOperands.first, let p = m.parameter(name) {
            let g = try store.tensor(for: p)
            guard g.data.count == hidden else { throw NeuronScoreError.weightShape(parameter: name, expected: [hidden], found: g.shape) }
            inputGain = g
        }
        guard up.shape == [ffn, hidden] else {
            throw NeuronScoreError.weightShape(parameter: a.up.operands[1].param ?? "?", expected: [ffn, hidden], found: up.shape)
        }
        guard down.shape == [hidden, ffn] else {
            throw NeuronScoreError.weightShape(parameter: a.down.operands[1].param ?? "?", expected: [hidden, ffn], found: down.shape)
        }
    }

    /// The FFN width (channels).
    var width: Int { gate.rows }
}

/// Euclidean norms of the rows or the columns of a matrix, in double precision.
enum ChannelNorms {
    /// `[rows]`: the norm of each row of `t` `[rows, cols]`, its columns first scaled by `gain` `[cols]` if given.
    static func rows(_ t: Tensor, gain: Tensor? = nil) -> [Double] {
        let c = t.cols
        let g = gain.map { $0.data.map(Double.init) } ?? [Double](repeating: 1, count: c)
        return (0..<t.rows).map { r in
            var s = 0.0
            for j in 0..<c { let v = Double(t.data[r * c + j]) * g[j]; s += v * v }
            return s.squareRoot()
        }
    }

    /// `[cols]`: the norm of each column of `t` `[rows, cols]`.
    static func columns(_ t: Tensor) -> [Double] {
        let c = t.cols
        var s = [Double](repeating: 0, count: c)
        for r in 0..<t.rows {
            for j in 0..<c { let v = Double(t.data[r * c + j]); s[j] += v * v }
        }
        return s.map { $0.squareRoot() }
    }
}
