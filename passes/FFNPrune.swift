// ffn-prune: removes FFN channels per block, slicing gate and up (rows) and down (columns) together through the
// FFN channel they share. Which channels go is a strategy: the paper's position heuristics, a per-layer scorer, or
// `auto`, which tries them all and keeps the one with the lowest KL on calibration data.
//
//   block 0 {hidden = 8, heads = 2, kv_heads = 1, head_dim = 4, ffn = 16}
//   param @blk.0.ffn_gate.weight : tensor<16x8xf32> = load "blk.0.ffn_gate.weight" q4_k [16, 8]
//   param @blk.0.ffn_down.weight : tensor<8x16xf32> = load "blk.0.ffn_down.weight" q6_k [8, 16]
//   %11 = linear %10, @blk.0.ffn_gate.weight block 0 : tensor<?x16xf32>
//   %14 = mul %13, %12 block 0 : tensor<?x16xf32>
// -> ffn-prune{drop=4,strategy=top}
//   block 0 {hidden = 8, heads = 2, kv_heads = 1, head_dim = 4, ffn = 12}
//   param @blk.0.ffn_gate.weight : tensor<12x8xf32> = load "blk.0.ffn_gate.weight" q4_k [16, 8] | rows([0..11])
//   param @blk.0.ffn_down.weight : tensor<8x12xf32> = load "blk.0.ffn_down.weight" q6_k [8, 16] | cols([0..11])
//   %11 = linear %10, @blk.0.ffn_gate.weight block 0 : tensor<?x12xf32>
//   %14 = mul %13, %12 block 0 : tensor<?x12xf32>
//
// Kept channels are numbered in the module the pass receives. Views compose in source terms: a parameter whose
// chain already ends in `rows(A)` gets `rows([A[k] for k in K])` instead of a second view (likewise `cols`), so
// the chain stays one selection per axis and the printed indices are rows of the checkpoint tensor.
import Foundation
import PareIR
import PareInterpreter

/// Removes `drop` (or keeps `keep`) FFN channels in every block, choosing them by `strategy`.
/// Statistics: `strategy`, `kl.<strategy>` per candidate (auto), `blocks`, `ffn before`, `ffn after`,
/// `channels removed`, `parameters removed`. Records: `strategy`, `seed`, `auto.kl.<strategy>` (auto),
/// `kept.<block>` (the kept channels of each block, in the numbering of the module before the pass).
public struct FFNPrune: Pass {
    /// How many channels each block loses or keeps.
    public enum Amount: Sendable, Equatable {
        /// Remove N channels from every block.
        case drop(Int)
        /// Keep N channels in every block.
        case keep(Int)

        /// The number of channels a block of `width` keeps; throws `PassError.badOption` when that leaves no
        /// channel or asks for more than the block has.
        public func kept(width: Int, block: Int) throws -> Int {
            switch self {
            case .drop(let n):
                guard n >= 0, n < width else {
                    throw PassError.badOption(pass: "ffn-prune", option: "drop",
                        message: "drop=\(n) must leave at least one channel, but block \(block) has FFN width \(width) (drop at most \(width - 1))")
                }
                return width - n
            case .keep(let n):
                guard n >= 1, n <= width else {
                    throw PassError.badOption(pass: "ffn-prune", option: "keep",
                        message: "keep=\(n) must be in 1...\(width): block \(block) has FFN width \(width)")
                }
                return n
            }
        }
    }

    /// Which channels to keep.
    public enum Strategy: String, CaseIterable, Sendable {
        /// Position heuristics (no weights needed): see `NeuronPositionRule`.
        case top, bottom, middle, random
        /// Per-layer scores: `MagnitudeNeuronScorer` (weights) and `ActivationNeuronScorer` (weights + calibration).
        case magnitude, activation
        /// Try every other strategy, keep the one with the lowest mean KL(P_before ‖ P_candidate) on calibration.
        case auto

        /// The strategies `auto` tries, in order (ties go to the earlier one).
        public static let candidates: [Strategy] = [.top, .bottom, .middle, .random, .magnitude, .activation]

        /// The position rule, for top/bottom/middle/random.
        public var positionRule: NeuronPositionRule? { NeuronPositionRule(rawValue: rawValue) }
    }

    /// `ffn-prune`.
    public let name = "ffn-prune"
    /// One line for `pare passes` and the docs.
    public let summary = "Remove FFN channels per block (gate/up rows, down columns) by position, per-layer score, or lowest KL"
    /// It removes parameters: the pass manager KL-checks it.
    public var isPruning: Bool { true }

    /// Channels to drop or keep per block.
    public var amount: Amount
    /// How the kept channels are chosen.
    public var strategy: Strategy
    /// Seed of the `random` strategy (also what `auto` tries).
    public var seed: Int

    /// A pass removing `amount` channels per block by `strategy`.
    public init(_ amount: Amount, strategy: Strategy = .auto, seed: Int = 0) {
        self.amount = amount
        self.strategy = strategy
        self.seed = seed
    }

    /// The options `ffn-prune{...}` accepts.
    public static let options: [OptionSpec] = [
        OptionSpec("drop", .int(1...Int.max), help: "channels to remove from every block (give drop or keep)"),
        OptionSpec("keep", .int(1...Int.max), help: "channels to keep in every block (give drop or keep)"),
        OptionSpec("strategy", .choice(Strategy.allCases.map(\.rawValue)), default: "auto",
                   help: "which channels to keep: position (top, bottom, middle, random), per-layer score (magnitude, activation), or auto (lowest KL of all)"),
        OptionSpec("seed", .int(0...Int.max), default: "0", help: "seed of the random strategy"),
    ]

    /// Creates the pass from validated options; exactly one of `drop` and `keep` must be given.
    public init(options o: PassOptions) throws {
        switch (o.int("drop"), o.int("keep")) {
        case (let d?, nil): amount = .drop(d)
        case (nil, let k?): amount = .keep(k)
        case (.some, .some):
            throw PassError.badOption(pass: "ffn-prune", option: "keep", message: "give either drop=N or keep=N, not both")
        case (nil, nil):
            throw PassError.badOption(pass: "ffn-prune", option: "drop", message: "give drop=N (channels to remove per block) or keep=N (channels to keep)")
        }
        strategy = Strategy(rawValue: o.string("strategy") ?? "auto") ?? .auto
        seed = o.int("seed") ?? 0
    }

    /// The registry entry.
    public static var entry: PassRegistry.Entry {
        let sample = FFNPrune(.drop(1))
        return PassRegistry.Entry(name: sample.name, summary: sample.summary, options: options, isPruning: true,
                                  make: { try FFNPrune(options: $0) })
    }

    // MARK: Run

    /// Chooses the kept channels of every block, slices gate/up/down, and records the decision.
    public func run(_ r: inout Rewriter, context: PassContext) throws -> PassStatistics {
        let before = r.module
        let anatomy = try anatomyOrThrow(before)
        var counts: [Int: Int] = [:]
        for a in anatomy {
            guard let dims = before.block(a.index) else { throw FFNPruneError.undeclaredBlock(a.index) }
            counts[a.index] = try amount.kept(width: dims.ffn, block: a.index)
        }

        var stats = PassStatistics()
        var klByStrategy: [(Strategy, Double)] = []
        let chosen: Strategy
        let kept: [Int: IndexList]
        if strategy == .auto {
            (chosen, kept, klByStrategy) = try autoChoose(before, anatomy: anatomy, counts: counts, context: context)
        } else {
            chosen = strategy
            kept = try choose(strategy, module: before, anatomy: anatomy, counts: counts, context: context)
        }
        try FFNPrune.slice(&r, anatomy: anatomy, kept: kept)

        stats.add("strategy", .string(chosen.rawValue))
        for (s, kl) in klByStrategy { stats.add("kl.\(s.rawValue)", .float(kl)) }
        let widthsBefore = anatomy.compactMap { before.block($0.index)?.ffn }
        let widthsAfter = anatomy.compactMap { r.module.block($0.index)?.ffn }
        stats.add("blocks", anatomy.count)
        stats.add("ffn before", .string(FFNPrune.summarize(widthsBefore)))
        stats.add("ffn after", .string(FFNPrune.summarize(widthsAfter)))
        stats.add("channels removed", widthsBefore.reduce(0, +) - widthsAfter.reduce(0, +))
        stats.add("parameters removed", before.parameterCount - r.module.parameterCount)

        context.record(&r, "strategy", .string(chosen.rawValue))
        context.record(&r, "seed", .int(seed))
        for (s, kl) in klByStrategy { context.record(&r, "auto.kl.\(s.rawValue)", .string(String(format: "%.6g", kl))) }
        for a in anatomy { if let k = kept[a.index] { context.record(&r, "kept.\(a.index)", .string(k.description)) } }
        return stats
    }

    /// The kept channels of every block under one (non-auto) strategy, ascending, numbered in `module`.
    public func choose(_ s: Strategy, module: Module, anatomy: [BlockAnatomy], counts: [Int: Int],
                       context: PassContext) throws -> [Int: IndexList] {
        var scores: NeuronScores = [:]
        switch s {
        case .auto: throw PassError.badOption(pass: name, option: "strategy", message: "auto is not a single strategy")
        case .top, .bottom, .middle, .random: break
        case .magnitude: scores = try MagnitudeNeuronScorer().scores(module, context: context)
        case .activation: scores = try ActivationNeuronScorer().scores(module, context: context)
        }
        return try keptChannels(s, module: module, anatomy: anatomy, counts: counts, scores: scores)
    }

    /// Kept channels per block from a position rule or from scores already computed.
    func keptChannels(_ s: Strategy, module: Module, anatomy: [BlockAnatomy], counts: [Int: Int], scores: NeuronScores) throws -> [Int: IndexList] {
        var out: [Int: IndexList] = [:]
        for a in anatomy {
            guard let width = module.block(a.index)?.ffn, let k = counts[a.index] else { throw FFNPruneError.undeclaredBlock(a.index) }
            if let rule = s.positionRule {
                out[a.index] = rule.keep(k, of: width, block: a.index, seed: seed)
            } else {
                guard let sc = scores[a.index], sc.count == width else {
                    throw FFNPruneError.scoreCount(block: a.index, strategy: s.rawValue, expected: width, found: scores[a.index]?.count ?? 0)
                }
                out[a.index] = keepHighest(sc, count: k)
            }
        }
        return out
    }

    /// Tries every candidate strategy on `module` and returns the one with the lowest mean KL, its kept channels,
    /// and every candidate's mean KL in `Strategy.candidates` order. One forward over calibration gives both the
    /// reference logits and the activation scores; each candidate then costs one forward.
    func autoChoose(_ module: Module, anatomy: [BlockAnatomy], counts: [Int: Int],
                    context: PassContext) throws -> (Strategy, [Int: IndexList], [(Strategy, Double)]) {
        let store = try context.requireStore("ffn-prune{strategy=auto}")
        context.progress("ffn-prune: calibration forward (activation scores, reference logits)")
        let (activation, reference) = try ActivationNeuronScorer().scoresAndLogits(module, context: context)
        let magnitude = try MagnitudeNeuronScorer().scores(module, context: context)
        let sequences = try context.sequences(for: module, pass: "ffn-prune{strategy=auto}")

        var best: (Strategy, [Int: IndexList], Double)?
        var kls: [(Strategy, Double)] = []
        for (n, s) in Strategy.candidates.enumerated() {
            context.progress("ffn-prune: trying \(s.rawValue) (\(n + 1)/\(Strategy.candidates.count))")
            let scores = s == .magnitude ? magnitude : s == .activation ? activation : [:]
            let kept = try keptChannels(s, module: module, anatomy: anatomy, counts: counts, scores: scores)
            var candidate = Rewriter(module)
            try FFNPrune.slice(&candidate, anatomy: anatomy, kept: kept)
            let kl = try FFNPrune.meanKL(candidate.module, sequences: sequences, reference: reference, store: store)
            store.dropViews()   // each candidate's sliced weights are needed only once
            kls.append((s, kl))
            if kl < (best?.2 ?? .infinity) { best = (s, kept, kl) }
        }
        guard let best else { throw FFNPruneError.noCandidate }
        return (best.0, best.1, kls)
    }

    /// Mean per-position KL(reference ‖ module) over `sequences`, streaming (each candidate's logits are dropped
    /// as soon as they are compared). Both modules must share a vocabulary.
    static func meanKL(_ m: Module, sequences: [[Int]], reference: [Tensor], store: WeightStore) throws -> Double {
        let interpreter = try Interpreter(module: m, store: store)
        var acc = KLAccumulator(keep: nil)
        for (seq, p) in zip(sequences, reference) {
            let q = try interpreter.forward(seq)
            for t in 0..<min(p.rows, q.rows) { acc.add(before: p.row(t), after: q.row(t)) }
        }
        return acc.statistics().mean
    }

    // MARK: Slicing

    /// Keeps channels `kept[b]` (ascending, numbered in the current module) of each block `b` listed: gate and up
    /// (and their biases) get `rows(K)`, down gets `cols(K)`, the gate/up/silu/mul results become `[?, |K|]`, and
    /// the block's `ffn` becomes `|K|`. A block whose kept set is all its channels is left untouched.
    public static func slice(_ r: inout Rewriter, anatomy: [BlockAnatomy], kept: [Int: IndexList]) throws {
        var blocks = r.module.blocks
        for a in anatomy {
            guard let k = kept[a.index] else { continue }
            guard let bi = blocks.firstIndex(where: { $0.index == a.index }) else { throw FFNPruneError.undeclaredBlock(a.index) }
            let width = blocks[bi].ffn
            guard !k.isEmpty, k.isStrictlyIncreasing, k.allSatisfy({ $0 >= 0 && $0 < width }) else {
                throw FFNPruneError.badSelection(block: a.index, width: width, kept: k.description)
            }
            if k.count == width { continue }

            // The FFN group: h = silu(gate(x)) * up(x); y = down(h).
            guard let h = a.down.operands.first?.value, let mul = r.definingOp(of: h),
                  let siluV = mul.operands.first?.value else { throw FFNPruneError.notSwiGLU(a.index) }
            let rowParams = [a.gate, a.up].flatMap { $0.paramOperands }                // weights [ffn, hidden] (+ biases [ffn])
            guard let downW = a.down.operands.count > 1 ? a.down.operands[1].param : nil else { throw FFNPruneError.notSwiGLU(a.index) }
            let all = rowParams + [downW]
            guard Set(all).count == all.count else { throw FFNPruneError.sharedWeight(block: a.index, parameter: downW) }
            for p in all where r.users(ofParameter: p).count != 1 {
                throw FFNPruneError.sharedWeight(block: a.index, parameter: p)
            }
            for p in rowParams { try sliceParameter(&r, p, view: .rows(k), width: width, block: a.index) }
            try sliceParameter(&r, downW, view: .cols(k), width: width, block: a.index)

            for v in [a.gate.result, a.up.result, siluV, h] {
                guard let op = r.definingOp(of: v), op.type == .activations(width) else {
                    throw FFNPruneError.opWidth(block: a.index, value: v.description, expected: width)
                }
                try r.updateOp(v) { $0.type = .activations(k.count) }
            }
            blocks[bi].ffn = k.count
        }
        r.setBlocks(blocks)
    }

    /// Applies a `rows(K)` or `cols(K)` selection to parameter `name`, composing with a trailing selection of the same axis.
    static func sliceParameter(_ r: inout Rewriter, _ name: String, view: ParameterView, width: Int, block: Int) throws {
        guard var p = r.module.parameter(name) else { throw RewriteError.noSuchParameter(name) }
        let axis: Int? = { if case .rows = view { return p.shape.first }; return p.shape.last }()
        guard axis == width else { throw FFNPruneError.parameterWidth(block: block, parameter: name, shape: p.shape, expected: width) }
        p.views = composing(p.views, view)
        guard let shape = p.derivedShape() else { throw FFNPruneError.parameterWidth(block: block, parameter: name, shape: p.shape, expected: width) }
        p.shape = shape
        r.setParameter(p)
    }

    /// `views` followed by `v`, with `rows(A) | rows(B)` folded into `rows(A[B])` (and likewise `cols`).
    public static func composing(_ views: [ParameterView], _ v: ParameterView) -> [ParameterView] {
        switch (views.last, v) {
        case (.rows(let a)?, .rows(let b)): return views.dropLast() + [.rows(IndexList(b.map { a[$0] }))]
        case (.cols(let a)?, .cols(let b)): return views.dropLast() + [.cols(IndexList(b.map { a[$0] }))]
        default: return views + [v]
        }
    }

    /// `1536 x 30`, or `1536 x 2, 1280 x 28` when blocks differ (runs in block order).
    static func summarize(_ widths: [Int]) -> String {
        var runs: [(Int, Int)] = []
        for w in widths { if let l = runs.last, l.0 == w { runs[runs.count - 1].1 += 1 } else { runs.append((w, 1)) } }
        return runs.map { "\($0.0) x \($0.1)" }.joined(separator: ", ")
    }

    func anatomyOrThrow(_ m: Module) throws -> [BlockAnatomy] {
        do { return try m.blockAnatomy() } catch let e as BlockAnatomyError { throw FFNPruneError.anatomy(e.description) }
    }
}

/// Why ffn-prune could not slice a module.
public enum FFNPruneError: Error, LocalizedError, Equatable {
    /// The blocks are not llama/qwen2-style (no SwiGLU FFN found).
    case anatomy(String)
    /// An op is tagged with a block the block table does not declare.
    case undeclaredBlock(Int)
    /// The FFN is not `down(silu(gate(x)) * up(x))`.
    case notSwiGLU(Int)
    /// A weight of the FFN group is also read elsewhere, so it cannot be sliced for this block alone.
    case sharedWeight(block: Int, parameter: String)
    /// A weight's FFN axis does not have the block's FFN width.
    case parameterWidth(block: Int, parameter: String, shape: [Int], expected: Int)
    /// An FFN activation does not have the block's FFN width.
    case opWidth(block: Int, value: String, expected: Int)
    /// A kept set is empty, unsorted or out of range.
    case badSelection(block: Int, width: Int, kept: String)
    /// A scorer returned the wrong number of scores.
    case scoreCount(block: Int, strategy: String, expected: Int, found: Int)
    /// auto had no candidate to try.
    case noCandidate

    public var errorDescription: String? {
        switch self {
        case .anatomy(let m): return "ffn-prune: \(m)"
        case .undeclaredBlock(let b): return "ffn-prune: block \(b) has ops but no `block \(b) {...}` declaration"
        case .notSwiGLU(let b): return "ffn-prune: block \(b)'s FFN is not down(silu(gate(x)) * up(x))"
        case .sharedWeight(let b, let p): return "ffn-prune: @\(p) of block \(b)'s FFN is read by another op; cannot slice it for one block"
        case .parameterWidth(let b, let p, let s, let e):
            return "ffn-prune: @\(p) has shape \(s), but block \(b)'s FFN width is \(e) (gate/up [ffn, hidden], down [hidden, ffn])"
        case .opWidth(let b, let v, let e): return "ffn-prune: \(v) in block \(b) is not tensor<?x\(e)xf32> (the block's FFN width)"
        case .badSelection(let b, let w, let k): return "ffn-prune: kept channels \(k) of block \(b) are not a non-empty ascending subset of 0..<\(w)"
        case .scoreCount(let b, let s, let e, let f): return "ffn-prune: the \(s) scorer gave \(f) scores for block \(b), which has \(e) channels"
        case .noCandidate: return "ffn-prune: auto has no strategy to try"
        }
    }
}
