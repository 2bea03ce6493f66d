// The reference interpreter: runs `forward` op by op in float32. It is the definition of the IR's meaning.
import PareIR

/// Runs a module's `forward` over token ids, optionally incrementally with a KV cache.
///
/// Semantics of each op are documented in docs/IR.md; the kernels are in Kernels.swift.
public final class Interpreter {
    public let module: Module
    /// Materialised parameters by name, each with its IR shape.
    let weights: [String: Tensor]
    /// For each op index, the values whose last use is that op (freed afterwards).
    private let dying: [[Value]]

    /// The keys and values each attention op has seen, by `kv_slot`: `[positions, kv_heads·head_dim]`.
    public struct Cache {
        public fileprivate(set) var keys: [[Float]]
        public fileprivate(set) var values: [[Float]]
        /// Positions already processed.
        public fileprivate(set) var length: Int
    }

    /// Checks that every parameter the function reads has a weight of the declared shape.
    public init(module: Module, weights: [String: Tensor]) throws {
        self.module = module
        self.weights = weights
        for op in module.function.ops {
            for p in op.paramOperands {
                guard let decl = module.parameter(p) else { throw InterpreterError.badOp("@\(p) is not declared") }
                guard let w = weights[p] else { throw InterpreterError.missingWeight(p) }
                guard w.shape == decl.shape else { throw InterpreterError.weightShape(name: p, expected: decl.shape, found: w.shape) }
            }
        }
        var lastUse: [Value: Int] = [:]
        for (i, op) in module.function.ops.enumerated() { for v in op.valueOperands { lastUse[v] = i } }
        var dying = [[Value]](repeating: [], count: module.function.ops.count)
        for (v, i) in lastUse where v != module.function.result { dying[i].append(v) }
        self.dying = dying
    }

    /// An interpreter whose weights come from a (shared, caching) weight store.
    public convenience init(module: Module, store: WeightStore) throws {
        try self.init(module: module, weights: store.weights(for: module))
    }

    /// An empty cache with one slot per attention op.
    public func makeCache() -> Cache {
        let slots = module.function.ops.filter { $0.kind.isAttention }.count
        return Cache(keys: Array(repeating: [], count: slots), values: Array(repeating: [], count: slots), length: 0)
    }

    /// Logits `[tokens.count, vocab]` for a whole sequence.
    public func forward(_ tokens: [Int]) throws -> Tensor {
        var cache = makeCache()
        return try forward(tokens, cache: &cache)
    }

    /// Logits `[tokens.count, vocab]` for tokens that follow the `cache.length` positions already in the cache.
    public func forward(_ tokens: [Int], cache: inout Cache) throws -> Tensor {
        try run(tokens, cache: &cache).logits
    }

    /// Runs `forward` from op index `start` (0 = the whole function) over `tokens`, with `seed` giving the values
    /// defined before `start` that later ops read (e.g. the residual stream entering a block), and returns the
    /// logits plus the values listed in `capture`. Layer scoring uses this to run only the blocks after a candidate.
    public func run(_ tokens: [Int], from start: Int = 0, seed: [Value: Tensor] = [:], capture: Set<Value> = [],
                    cache: inout Cache) throws -> (logits: Tensor, captured: [Value: Tensor]) {
        guard !tokens.isEmpty else { throw InterpreterError.emptyInput }
        let vocab = module.vocabulary.size
        for t in tokens where t < 0 || t >= vocab { throw InterpreterError.tokenOutOfRange(token: t, vocabulary: vocab) }
        let m = tokens.count
        let past = cache.length
        var env: [Value: Tensor] = seed
        var captured: [Value: Tensor] = [:]
        guard let arg = module.function.arguments.first else { throw InterpreterError.badOp("forward has no argument") }
        env[arg.value] = Tensor(shape: [m], data: tokens.map(Float.init))
        for v in capture where env[v] != nil { captured[v] = env[v] }

        func value(_ op: Op, _ i: Int) throws -> Tensor {
            guard i < op.operands.count, let v = op.operands[i].value, let t = env[v] else {
                throw InterpreterError.badOp("operand \(i) of \(op.kind.rawValue) \(op.result) is not a computed value")
            }
            return t
        }
        func weight(_ op: Op, _ i: Int) throws -> Tensor {
            guard i < op.operands.count, let p = op.operands[i].param else {
                throw InterpreterError.badOp("operand \(i) of \(op.kind.rawValue) \(op.result) is not a parameter")
            }
            guard let w = weights[p] else { throw InterpreterError.missingWeight(p) }
            return w
        }
        func attr(_ op: Op, _ name: String) throws -> Int {
            guard let v = op.int(name), v > 0 else { throw InterpreterError.badOp("\(op.kind.rawValue) \(op.result) lacks a positive '\(name)'") }
            return v
        }

        /// `x W^T (+ b)` for an op `%x, @w[, @b]`; with `eps` (a folded norm), x is RMS-normalised first.
        func product(_ op: Op, _ input: Tensor) throws -> Tensor {
            var x = input
            let w = try weight(op, 1)
            let bias = op.operands.count > 2 ? try weight(op, 2).data : nil
            guard w.cols == x.cols else {
                throw InterpreterError.badOp("\(op.kind.rawValue) \(op.result): input width \(x.cols) != weight columns \(w.cols)")
            }
            if let eps = op.double("eps") {
                x.data = Kernels.rmsNorm(x.data, rows: x.rows, cols: x.cols, weight: [Float](repeating: 1, count: x.cols), eps: Float(eps))
            }
            return Tensor(shape: [x.rows, w.rows], data: Kernels.linear(x.data, rows: x.rows, in: x.cols, weight: w.data, out: w.rows, bias: bias))
        }

        let ops = module.function.ops
        guard start >= 0 && start <= ops.count else { throw InterpreterError.badOp("start op \(start) is outside forward") }
        for index in start..<ops.count {
            let op = ops[index]
            let result: Tensor
            switch op.kind {
            case .embed:
                let table = try weight(op, 0), ids = try value(op, 1)
                let h = table.cols
                var out = [Float](repeating: 0, count: m * h)
                for (r, t) in ids.data.enumerated() {
                    let row = Int(t)
                    out.replaceSubrange((r * h)..<((r + 1) * h), with: table.data[(row * h)..<((row + 1) * h)])
                }
                result = Tensor(shape: [m, h], data: out)
            case .rmsNorm:
                let x = try value(op, 0), w = try weight(op, 1)
                guard let eps = op.double("eps") else { throw InterpreterError.badOp("rms_norm \(op.result) lacks 'eps'") }
                result = Tensor(shape: x.shape, data: Kernels.rmsNorm(x.data, rows: x.rows, cols: x.cols, weight: w.data, eps: Float(eps)))
            case .linear:
                result = try product(op, value(op, 0))
            case .rope:
                var x = try value(op, 0)
                guard let theta = op.double("theta") else { throw InterpreterError.badOp("rope \(op.result) lacks 'theta'") }
                Kernels.rope(&x.data, rows: x.rows, heads: try attr(op, "heads"), headDim: try attr(op, "head_dim"),
                             theta: theta, start: past)
                result = x
            case .attention:
                let q = try value(op, 0), k = try value(op, 1), v = try value(op, 2)
                guard let slot = op.int("kv_slot"), slot >= 0, slot < cache.keys.count else {
                    throw InterpreterError.badOp("attention \(op.result) has no valid 'kv_slot'")
                }
                cache.keys[slot] += k.data
                cache.values[slot] += v.data
                result = Tensor(shape: [m, q.cols],
                                data: Kernels.attention(q: q.data, rows: m, keys: cache.keys[slot], values: cache.values[slot],
                                                        length: past + m, past: past, heads: try attr(op, "heads"),
                                                        kvHeads: try attr(op, "kv_heads"), headDim: try attr(op, "head_dim")))
            case .silu:
                let x = try value(op, 0)
                result = Tensor(shape: x.shape, data: Kernels.silu(x.data))
            case .mul:
                let a = try value(op, 0), b = try value(op, 1)
                result = Tensor(shape: a.shape, data: Kernels.mul(a.data, b.data))
            case .add:
                let a = try value(op, 0), b = try value(op, 1)
                result = Tensor(shape: a.shape, data: Kernels.add(a.data, b.data))
            case .qkvRope:
                var y = try product(op, value(op, 0))
                let heads = try attr(op, "heads"), kvHeads = try attr(op, "kv_heads"), d = try attr(op, "head_dim")
                guard let theta = op.double("theta") else { throw InterpreterError.badOp("qkv_rope \(op.result) lacks 'theta'") }
                guard y.cols == (heads + 2 * kvHeads) * d else {
                    throw InterpreterError.badOp("qkv_rope \(op.result): width \(y.cols) != (heads + 2*kv_heads) * head_dim")
                }
                for (first, n) in [(0, heads), (heads * d, kvHeads)] {
                    var part = Kernels.columns(y.data, rows: m, cols: y.cols, from: first, count: n * d)
                    Kernels.rope(&part, rows: m, heads: n, headDim: d, theta: theta, start: past)
                    Kernels.setColumns(&y.data, rows: m, cols: y.cols, from: first, to: part)
                }
                result = y
            case .attentionQKV:
                let qkv = try value(op, 0)
                let heads = try attr(op, "heads"), kvHeads = try attr(op, "kv_heads"), d = try attr(op, "head_dim")
                guard qkv.cols == (heads + 2 * kvHeads) * d else {
                    throw InterpreterError.badOp("attention_qkv \(op.result): width \(qkv.cols) != (heads + 2*kv_heads) * head_dim")
                }
                guard let slot = op.int("kv_slot"), slot >= 0, slot < cache.keys.count else {
                    throw InterpreterError.badOp("attention_qkv \(op.result) has no valid 'kv_slot'")
                }
                let q = Kernels.columns(qkv.data, rows: m, cols: qkv.cols, from: 0, count: heads * d)
                cache.keys[slot] += Kernels.columns(qkv.data, rows: m, cols: qkv.cols, from: heads * d, count: kvHeads * d)
                cache.values[slot] += Kernels.columns(qkv.data, rows: m, cols: qkv.cols, from: (heads + kvHeads) * d, count: kvHeads * d)
                result = Tensor(shape: [m, heads * d],
                                data: Kernels.attention(q: q, rows: m, keys: cache.keys[slot], values: cache.values[slot],
                                                        length: past + m, past: past, heads: heads, kvHeads: kvHeads, headDim: d))
            case .swiglu:
                let y = try product(op, value(op, 0))
                let f = y.cols / 2
                let gate = Kernels.columns(y.data, rows: m, cols: y.cols, from: 0, count: f)
                let up = Kernels.columns(y.data, rows: m, cols: y.cols, from: f, count: f)
                result = Tensor(shape: [m, f], data: Kernels.mul(Kernels.silu(gate), up))
            }
            env[op.result] = result
            if capture.contains(op.result) { captured[op.result] = result }
            for v in dying[index] { env[v] = nil }
        }
        cache.length = past + m
        guard let logits = env[module.function.result] else { throw InterpreterError.badOp("the returned value was never computed") }
        return (logits, captured)
    }
}
