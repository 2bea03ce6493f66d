// The kernel table: every kernel a plan step can run, declared once.
//
// A declaration says what a step of the kernel is made of (input buffers, weight operands, the attributes it
// reads), how its widths and attributes must relate, what it costs (FLOPs for a chunk of rows; a decoded token
// reads its weights whole, or one row of a table), which component of the model it belongs to, whether it may
// write over its input, and its value in plan.proto. Everything that used to switch over kernels reads it:
//   validation (`ExecutionPlan.validate()`: arity, then the entry's `check`), the codec (the protobuf value),
//   the listing (whether kv_slot is shown), `pare report` (component, FLOPs), `pare bench` (FLOPs, bytes per token),
//   lowering (which IR ops pack matrix operands), the runtime's operand checks (arity, in place, KV slots), and
//   the C reader (names from plan.proto's descriptor).
// What stays per kernel elsewhere is what is genuinely different: the runtime's instruction for it, how a step
// resolves to it and how it runs (side by side in Sources/Runtime/Instructions.swift), and the IR op that lowers to
// it. docs/PASSES.md (the worked example's step 5) lists the files a new kernel touches.
//
// | kernel          | inputs       | weights                  | output            | attributes                         |
// |-----------------|--------------|--------------------------|-------------------|------------------------------------|
// | `embed`         | (the tokens) | table `[V, H]`           | `[H]`             |                                    |
// | `rms_norm`      | x `[n]`      | g `[n]`                  | `[n]`             | eps                                |
// | `linear`        | x `[in]`     | W `[out, in]`, b? `[out]`| `[out]`           | eps? (x RMS-normalised first)      |
// | `rope`          | x `[h*d]`    |                          | `[h*d]`           | heads, head_dim, theta             |
// | `attention`     | q, k, v      |                          | `[heads*d]`       | heads, kv_heads, head_dim, kv_slot |
// | `silu`          | x            |                          | same width        |                                    |
// | `mul`, `add`    | a, b         |                          | same width        |                                    |
// | `qkv_rope`      | x `[in]`     | W `[(H+2K)d, in]`, b?    | `[(H+2K)d]`       | eps?, heads, kv_heads, head_dim, theta |
// | `attention_qkv` | qkv          |                          | `[heads*d]`       | heads, kv_heads, head_dim, kv_slot |
// | `swiglu`        | x `[in]`     | W `[2F, in]` (gate; up)  | `[F]`             | eps?, ffn                          |
//
// A matrix W may be several tensors stacked by rows (`matrixParts`), each in its own dtype; with a folded norm
// (eps) its last weight may be the norm's gain, applied to the activation (`normGain`). Weights are listed as
// W parts..., b?, g?. Vectors (norm weights, biases, gains) are f32; matrices and tables any dtype.

/// The kernels a step can run, each declared once below (`spec`).
public enum Kernel: String, Sendable, Equatable, CaseIterable {
    case embed
    case rmsNorm = "rms_norm"
    case linear
    case rope
    case attention
    case silu
    case mul
    case add
    case qkvRope = "qkv_rope"
    case attentionQKV = "attention_qkv"
    case swiglu
}

/// The weight operands of a kernel.
public enum WeightOperands: Sendable, Equatable {
    case none
    /// One f32 vector as wide as the input and output (a norm's weight).
    case vector
    /// The embedding table `[vocabSize, hidden]`, any dtype: a decoded token reads one row of it.
    case table
    /// A matrix `[out, in]` as row-stacked parts in any dtype, then an optional bias `[out]` (when `bias`), then the
    /// folded norm's gain `[in]` when the step has `normGain`.
    case matrix(bias: Bool)
}

/// A step attribute, by its name in plan.proto and the listing.
public enum StepAttribute: String, Sendable, CaseIterable {
    case eps, heads, kvHeads = "kv_heads", headDim = "head_dim", theta, kvSlot = "kv_slot", ffn
}

/// The component of the model a kernel's weights count towards in `pare report`.
public enum KernelRole: String, Sendable {
    case embedding, norms, attention, ffn
    /// A bare `linear`: the LM head outside blocks; inside a block, attention when it reads from or feeds an
    /// attention kernel (the o projection, unfused q/k/v), FFN otherwise.
    case byNeighbours
}

/// One kernel's declaration. See this file's header.
public struct KernelSpec: Sendable {
    public let kernel: Kernel
    /// The value in plan.proto's `Kernel` enum.
    let protobuf: Pare_Plan_V1_Kernel
    /// Input buffers.
    public let inputs: Int
    public let weights: WeightOperands
    /// The attributes the kernel reads; eps is optional on matrix kernels (a folded norm), required otherwise.
    public let attributes: Set<StepAttribute>
    /// Whether the output may be the same arena floats as an input of the same width (elementwise kernels).
    public let elementwise: Bool
    /// Attends over the step's KV slot (appends the chunk's keys and values to it).
    public var attends: Bool { attributes.contains(.kvSlot) }
    public let role: KernelRole
    /// Widths and attributes, once arity and indices are known to be right: throws the first violation.
    let check: @Sendable (StepChecker) throws -> Void
    /// Floating-point operations for `rows` new rows after `past` earlier positions.
    let cost: @Sendable (StepCost) -> Int

    /// Whether the kernel multiplies by a matrix operand (its weights are parts, bias?, gain?).
    public var isMatrix: Bool { if case .matrix = weights { return true } else { return false } }

    /// How many weights a step of this kernel takes, given its `matrixParts` and `normGain`.
    public func weightCount(_ s: Step) -> ClosedRange<Int> {
        switch weights {
        case .none: return 0...0
        case .vector, .table: return 1...1
        case .matrix(let bias):
            // A matrixParts outside 0...64 is rejected by validation; counted as 1 here so this cannot overflow.
            let n = (s.matrixParts >= 0 && s.matrixParts <= 64 ? s.partCount : 1) + (s.normGain ? 1 : 0)
            return n...(n + (bias ? 1 : 0))
        }
    }

    /// FLOPs of this step for `rows` new rows after `past` earlier positions; `shapes` are its weights' shapes.
    public func flops(_ s: Step, shapes: [[Int]], rows: Int, past: Int) -> Int {
        cost(StepCost(step: s, shapes: shapes, rows: rows, past: past))
    }
}

/// What a kernel's cost depends on.
public struct StepCost: Sendable {
    public let step: Step
    /// The step's weights' shapes, in `step.weights` order.
    public let shapes: [[Int]]
    public let rows: Int
    public let past: Int

    /// 2 x rows x out x in of the step's matrix (every part); Int.max when that overflows.
    var matrixProduct: Int {
        let parts = step.matrixRoles.parts
        let out = parts.reduce(0) { saturatingSum($0, shapes.indices.contains($1) ? shapes[$1].first ?? 0 : 0) }
        let cols = shapes.indices.contains(parts.lowerBound) ? shapes[parts.lowerBound].last ?? 0 : 0
        return saturatingProduct([2, rows, out, cols])
    }

    /// Causal attention of `rows` queries over `past` + themselves: scores and the weighted sum of values,
    /// 2 x 2 x heads x headDim per (query, key) pair; Int.max when that overflows.
    var attention: Int {
        let pairs = saturatingSum(saturatingProduct([rows, past]), saturatingProduct([rows, rows + 1]) / 2)
        return saturatingProduct([4, step.heads, step.headDim, pairs])
    }
}

private func saturatingSum(_ a: Int, _ b: Int) -> Int {
    let (r, o) = a.addingReportingOverflow(b)
    return o ? Int.max : r
}

private func saturatingProduct(_ xs: [Int]) -> Int { checkedProduct(xs) ?? Int.max }

extension Kernel {
    /// The kernel's declaration: see KernelTable.swift.
    public var spec: KernelSpec {
        switch self {
        case .embed:
            return KernelSpec(kernel: self, protobuf: .embed, inputs: 0, weights: .table, attributes: [], elementwise: false,
                              role: .embedding,
                              check: { c in
                                  try c.matrix(0, rows: c.plan.model.vocabSize, cols: c.plan.model.hidden, "embedding table")
                                  try c.outputWidth(c.plan.model.hidden, "the hidden size")
                              },
                              cost: { _ in 0 })
        case .rmsNorm:
            return KernelSpec(kernel: self, protobuf: .rmsNorm, inputs: 1, weights: .vector, attributes: [.eps],
                              elementwise: true, role: .norms,
                              check: { c in
                                  try c.requiredEps()
                                  try c.sameWidths()
                                  try c.vector(0, c.out, "norm weight")
                              },
                              cost: { _ in 0 })  // vector work: a few operations per float, not counted
        case .linear:
            return KernelSpec(kernel: self, protobuf: .linear, inputs: 1, weights: .matrix(bias: true), attributes: [.eps],
                              elementwise: false, role: .byNeighbours,
                              check: { c in
                                  try c.foldedNorm()
                                  try c.matrix(0, rows: c.out, cols: c.x[0], "weight")
                                  if let b = c.step.matrixRoles.bias { try c.vector(b, c.out, "bias") }
                              },
                              cost: { $0.matrixProduct })
        case .rope:
            return KernelSpec(kernel: self, protobuf: .rope, inputs: 1, weights: .none, attributes: [.heads, .headDim, .theta],
                              elementwise: true, role: .attention,
                              check: { c in
                                  let (q, _) = try c.heads()
                                  try c.rope()
                                  try c.sameWidths()
                                  try c.outputWidth(q, "heads x headDim")
                              },
                              cost: { _ in 0 })
        case .attention:
            return KernelSpec(kernel: self, protobuf: .attention, inputs: 3, weights: .none,
                              attributes: [.heads, .kvHeads, .headDim, .kvSlot], elementwise: false, role: .attention,
                              check: { c in
                                  let (q, kv) = try c.heads()
                                  guard c.x == [q, kv, kv], c.out == q else {
                                      throw c.mismatch("q, k, v, output widths \(c.x + [c.out]), expected [\(q), \(kv), \(kv), \(q)]")
                                  }
                                  try c.kvSlot()
                              },
                              cost: { $0.attention })
        case .silu, .mul, .add:
            return KernelSpec(kernel: self, protobuf: self == .silu ? .silu : self == .mul ? .mul : .add,
                              inputs: self == .silu ? 1 : 2, weights: .none, attributes: [], elementwise: true,
                              role: self == .add ? .norms : .ffn,
                              check: { c in try c.sameWidths() },
                              cost: { _ in 0 })
        case .qkvRope:
            return KernelSpec(kernel: self, protobuf: .qkvRope, inputs: 1, weights: .matrix(bias: true),
                              attributes: [.eps, .heads, .kvHeads, .headDim, .theta], elementwise: false, role: .attention,
                              check: { c in
                                  try c.foldedNorm()
                                  let (q, kv) = try c.heads()
                                  try c.rope()
                                  try c.outputWidth(q + 2 * kv, "(heads + 2 kvHeads) x headDim")
                                  try c.matrix(0, rows: c.out, cols: c.x[0], "qkv weight")
                                  if let b = c.step.matrixRoles.bias { try c.vector(b, c.out, "qkv bias") }
                              },
                              cost: { $0.matrixProduct })
        case .attentionQKV:
            return KernelSpec(kernel: self, protobuf: .attentionQkv, inputs: 1, weights: .none,
                              attributes: [.heads, .kvHeads, .headDim, .kvSlot], elementwise: false, role: .attention,
                              check: { c in
                                  let (q, kv) = try c.heads()
                                  guard c.x[0] == q + 2 * kv, c.out == q else {
                                      throw c.mismatch("qkv width \(c.x[0]) and output width \(c.out), expected \(q + 2 * kv) and \(q)")
                                  }
                                  try c.kvSlot()
                              },
                              cost: { $0.attention })
        case .swiglu:
            return KernelSpec(kernel: self, protobuf: .swiglu, inputs: 1, weights: .matrix(bias: false),
                              attributes: [.eps, .ffn], elementwise: false, role: .ffn,
                              check: { c in
                                  try c.foldedNorm()
                                  let ffn = c.step.ffn
                                  guard ffn > 0, ffn < Int.max / 2 else { throw c.attribute("ffn is \(ffn), must be positive") }
                                  try c.outputWidth(ffn, "ffn")
                                  try c.matrix(0, rows: 2 * ffn, cols: c.x[0], "gate/up weight")
                              },
                              cost: { $0.matrixProduct })  // the SwiGLU itself: vector work, not counted
        }
    }

    /// The kernel plan.proto's value names; nil for UNSPECIFIED and values this build does not know.
    init?(protobuf value: Pare_Plan_V1_Kernel) {
        guard let k = Kernel.allCases.first(where: { $0.spec.protobuf == value }) else { return nil }
        self = k
    }
}

/// The rules a kernel's `check` is written in: one step of one plan, its operand widths and weight shapes, and
/// helpers that throw the plan's errors. Arity and indices are already checked when `check` runs.
public struct StepChecker {
    public let plan: ExecutionPlan
    public let step: Step
    /// The step's kernel's declaration.
    public let spec: KernelSpec
    public let index: Int
    /// Input buffers' widths.
    public let x: [Int]
    /// Output buffer's width.
    public let out: Int
    /// Weights' shapes.
    let w: [[Int]]

    init(plan: ExecutionPlan, step: Step, spec: KernelSpec, index: Int) {
        self.plan = plan
        self.step = step
        self.spec = spec
        self.index = index
        x = step.inputs.map { plan.buffers[$0].width }
        out = plan.buffers[step.output].width
        w = step.weights.map { plan.tensors[$0].shape }
    }

    func mismatch(_ detail: String) -> PlanError { .shapeMismatch(step: index, kernel: step.kernel.rawValue, detail: detail) }
    func attribute(_ detail: String) -> PlanError { .badAttribute(step: index, kernel: step.kernel.rawValue, detail: detail) }

    /// Weight `j` (with the matrix parts after it, for matrix kernels) makes a `[rows, cols]` matrix; a matrix
    /// kernel's norm gain is an f32 `[cols]`.
    func matrix(_ j: Int, rows: Int, cols: Int, _ what: String) throws {
        guard spec.isMatrix else {
            guard w[j] == [rows, cols] else { throw mismatch("\(what) has shape \(w[j]), expected [\(rows), \(cols)]") }
            return
        }
        let roles = step.matrixRoles
        var total = 0
        for p in roles.parts {
            guard w[p].count == 2, w[p][1] == cols else {
                throw mismatch("\(what) part \(p - roles.parts.lowerBound) has shape \(w[p]), expected [_, \(cols)]")
            }
            // Checked before adding: a hostile plan may name one huge tensor as every part.
            guard w[p][0] <= rows - total else { throw mismatch("\(what) parts have more than \(rows) rows in all") }
            total += w[p][0]
        }
        guard total == rows else { throw mismatch("\(what) parts have \(total) rows in all, expected \(rows)") }
        if let g = roles.gain { try vector(g, cols, "norm gain") }
    }

    /// Weight `j` is an f32 `[n]`.
    func vector(_ j: Int, _ n: Int, _ what: String) throws {
        guard w[j] == [n] else { throw mismatch("\(what) has shape \(w[j]), expected [\(n)]") }
        let dtype = plan.tensors[step.weights[j]].dtype
        guard dtype == .f32 else { throw mismatch("\(what) is \(dtype.rawValue), vectors must be f32") }
    }

    func sameWidths() throws {
        guard x.allSatisfy({ $0 == out }) else { throw mismatch("input widths \(x) and output width \(out) differ") }
    }

    func outputWidth(_ expected: Int, _ what: String) throws {
        guard out == expected else { throw mismatch("output width \(out), \(what) is \(expected)") }
    }

    func requiredEps() throws {
        guard let e = step.eps, e > 0, e.isFinite else {
            throw attribute("eps is \(step.eps.map { "\($0)" } ?? "missing"), must be positive")
        }
    }

    /// An eps, when present (a folded norm), is positive and finite.
    func foldedNorm() throws {
        if let e = step.eps, !(e > 0 && e.isFinite) { throw attribute("eps is \(e), must be positive") }
    }

    /// heads, kvHeads, headDim positive and grouped; returns the q and kv widths, heads x headDim and kvHeads x
    /// headDim. Kernels that do not read kv_heads (rope) get kvHeads 1 when it is 0.
    func heads() throws -> (q: Int, kv: Int) {
        let s = step
        let kvHeads = s.kvHeads == 0 && !spec.attributes.contains(.kvHeads) ? 1 : s.kvHeads
        guard s.heads > 0, kvHeads > 0, s.headDim > 0 else {
            throw attribute("heads \(s.heads), kvHeads \(s.kvHeads), headDim \(s.headDim) must be positive")
        }
        guard s.heads % kvHeads == 0 else { throw PlanError.headsNotMultipleOfKVHeads(step: index, heads: s.heads, kvHeads: kvHeads) }
        guard let q = checkedProduct([s.heads, s.headDim]), let kv = checkedProduct([kvHeads, s.headDim]),
              q <= Int.max / 4, kv <= Int.max / 4 else { throw attribute("heads \(s.heads) x headDim \(s.headDim) is too large") }
        return (q, kv)
    }

    func rope() throws {
        guard step.headDim % 2 == 0 else { throw attribute("headDim \(step.headDim) is odd; rotary embedding needs pairs") }
        guard step.theta > 0, step.theta.isFinite else { throw attribute("theta is \(step.theta), must be positive") }
    }

    /// The step's KV slot exists and has the step's dims (and block).
    func kvSlot() throws {
        let s = step
        guard s.kvSlot >= 0, s.kvSlot < plan.kvLayers.count else {
            throw PlanError.indexOutOfRange(what: "step \(index) kvSlot", index: s.kvSlot, count: plan.kvLayers.count)
        }
        let layer = plan.kvLayers[s.kvSlot]
        guard layer.kvHeads == s.kvHeads, layer.headDim == s.headDim else {
            throw PlanError.kvLayerMismatch(step: index, slot: s.kvSlot,
                detail: "step has kvHeads \(s.kvHeads), headDim \(s.headDim); slot has \(layer.kvHeads), \(layer.headDim)")
        }
        if let b = s.block, b != layer.block {
            throw PlanError.kvLayerMismatch(step: index, slot: s.kvSlot, detail: "step is in block \(b), slot in block \(layer.block)")
        }
    }
}
