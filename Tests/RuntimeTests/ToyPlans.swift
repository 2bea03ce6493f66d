// Execution plans for the toy model, built by hand: an UNFUSED one (one step per IR op) and a FUSED one
// (qkv_rope, attention_qkv, swiglu, norms folded into the next product), plus their weight blobs.
import ParePlan
import PareRuntime

/// A 64-byte-aligned weight blob the tests own (the runtime's keepAlive).
final class TestBlob {
    let bytes: UnsafeMutableRawBufferPointer

    init(byteCount: Int, tensors: [(offset: Int, values: [Float])]) {
        bytes = .allocate(byteCount: max(byteCount, 64), alignment: 64)
        bytes.initializeMemory(as: UInt8.self, repeating: 0)
        for (offset, values) in tensors {
            values.withUnsafeBytes { (bytes.baseAddress! + offset).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        }
    }

    deinit { bytes.deallocate() }

    var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(bytes) }
}

/// Collects tensors (64-aligned in a blob), buffers (each its own space) and steps.
struct PlanBuilder {
    var tensors: [TensorEntry] = []
    var data: [(offset: Int, values: [Float])] = []
    var blobBytes = 0
    var buffers: [BufferEntry] = []
    var rowFloats = 0
    var steps: [Step] = []
    var kvLayers: [KVLayer] = []

    mutating func tensor(_ name: String, _ shape: [Int], _ values: [Float]) -> Int {
        precondition(shape.reduce(1, *) == values.count, "\(name): \(values.count) values for shape \(shape)")
        let offset = (blobBytes + 63) / 64 * 64
        tensors.append(TensorEntry(name: name, dtype: .f32, shape: shape, offset: offset, length: values.count * 4, checksum: 0))
        data.append((offset, values))
        blobBytes = offset + values.count * 4
        return tensors.count - 1
    }

    mutating func buffer(_ name: String, _ width: Int) -> Int {
        buffers.append(BufferEntry(name: name, width: width, offset: rowFloats))
        rowFloats += width
        return buffers.count - 1
    }

    mutating func kvSlot(block: Int, kvHeads: Int, headDim: Int) -> Int {
        kvLayers.append(KVLayer(slot: kvLayers.count, block: block, kvHeads: kvHeads, headDim: headDim))
        return kvLayers.count - 1
    }

    func build(output: Int, hidden: Int, vocab: Int, maxContext: Int, maxRows: Int) -> (ExecutionPlan, TestBlob) {
        let provenance = Provenance(modelName: "toy", architecture: "llama", sourceFormat: "gguf", sourcePath: "toy.gguf",
                                    sourceSHA256: String(repeating: "0", count: 64), pipeline: "none", lowering: "test",
                                    seeds: [], kl: [], metadata: [], pareVersion: "test")
        let tokenizer = PlanTokenizer(tokens: [], kinds: [], merges: [], preTokenizer: "gpt2", specials: [], idMap: [], originalSize: vocab)
        let plan = ExecutionPlan(provenance: provenance, tokenizer: tokenizer,
                                 model: ModelShape(hidden: hidden, vocabSize: vocab, maxContext: maxContext, maxRows: maxRows),
                                 tensors: tensors, buffers: buffers, arena: ArenaLayout(rowFloats: rowFloats, noReuseRowFloats: rowFloats),
                                 kvLayers: kvLayers, steps: steps, output: output,
                                 weights: WeightBlob(file: "weights.bin", length: blobBytes, sha256: ""))
        return (plan, TestBlob(byteCount: blobBytes, tensors: data))
    }
}

/// W `[rows, cols]` with each column i multiplied by g[i] (a norm weight folded into the next product).
func foldColumns(_ w: [Float], _ g: [Float]) -> [Float] {
    w.indices.map { w[$0] * g[$0 % g.count] }
}

enum ToyPlans {
    /// One step per IR op: rms_norm, linear x3 with bias, rope (q in place, k into a new buffer), attention,
    /// silu in place, mul, the second residual add in place.
    static func unfused(_ m: ToyModel, maxRows: Int = 8, maxContext: Int = 64) -> (ExecutionPlan, TestBlob) {
        var p = PlanBuilder()
        let h = m.hidden
        let table = p.tensor("token_embd", [m.vocab, h], m.embed)
        var x = p.buffer("x", h)
        p.steps.append(Step(kernel: .embed, inputs: [], weights: [table], output: x))
        for (i, b) in m.blocks.enumerated() {
            let d = b.headDim, qw = b.heads * d, kw = b.kvHeads * d
            let n = p.buffer("b\(i).attn_in", h)
            p.steps.append(Step(kernel: .rmsNorm, block: i, inputs: [x], weights: [p.tensor("blk.\(i).attn_norm", [h], b.attnNorm)], output: n, eps: m.eps))
            let q = p.buffer("b\(i).q", qw), k = p.buffer("b\(i).k", kw), v = p.buffer("b\(i).v", kw)
            for (out, w, bias, name, rows) in [(q, b.wq, b.bq, "q", qw), (k, b.wk, b.bk, "k", kw), (v, b.wv, b.bv, "v", kw)] {
                let wt = p.tensor("blk.\(i).attn_\(name)", [rows, h], w), bt = p.tensor("blk.\(i).attn_\(name).bias", [rows], bias)
                p.steps.append(Step(kernel: .linear, block: i, inputs: [n], weights: [wt, bt], output: out))
            }
            p.steps.append(Step(kernel: .rope, block: i, inputs: [q], output: q, heads: b.heads, headDim: d, theta: b.theta))
            let kr = p.buffer("b\(i).k_rot", kw)
            p.steps.append(Step(kernel: .rope, block: i, inputs: [k], output: kr, heads: b.kvHeads, headDim: d, theta: b.theta))
            let a = p.buffer("b\(i).attn", qw)
            let slot = p.kvSlot(block: i, kvHeads: b.kvHeads, headDim: d)
            p.steps.append(Step(kernel: .attention, block: i, inputs: [q, kr, v], output: a, heads: b.heads, kvHeads: b.kvHeads, headDim: d, kvSlot: slot))
            let o = p.buffer("b\(i).o", h)
            p.steps.append(Step(kernel: .linear, block: i, inputs: [a], weights: [p.tensor("blk.\(i).attn_output", [h, qw], b.wo)], output: o))
            let x1 = p.buffer("b\(i).x1", h)
            p.steps.append(Step(kernel: .add, block: i, inputs: [x, o], output: x1))
            let n2 = p.buffer("b\(i).ffn_in", h)
            p.steps.append(Step(kernel: .rmsNorm, block: i, inputs: [x1], weights: [p.tensor("blk.\(i).ffn_norm", [h], b.ffnNorm)], output: n2, eps: m.eps))
            let g = p.buffer("b\(i).gate", b.ffn), u = p.buffer("b\(i).up", b.ffn)
            p.steps.append(Step(kernel: .linear, block: i, inputs: [n2], weights: [p.tensor("blk.\(i).ffn_gate", [b.ffn, h], b.gate)], output: g))
            p.steps.append(Step(kernel: .linear, block: i, inputs: [n2], weights: [p.tensor("blk.\(i).ffn_up", [b.ffn, h], b.up)], output: u))
            p.steps.append(Step(kernel: .silu, block: i, inputs: [g], output: g))
            let f = p.buffer("b\(i).ffn", b.ffn)
            p.steps.append(Step(kernel: .mul, block: i, inputs: [g, u], output: f))
            let dn = p.buffer("b\(i).down", h)
            p.steps.append(Step(kernel: .linear, block: i, inputs: [f], weights: [p.tensor("blk.\(i).ffn_down", [h, b.ffn], b.down)], output: dn))
            p.steps.append(Step(kernel: .add, block: i, inputs: [x1, dn], output: x1))
            x = x1
        }
        let nf = p.buffer("out_in", h)
        p.steps.append(Step(kernel: .rmsNorm, inputs: [x], weights: [p.tensor("output_norm", [h], m.outNorm)], output: nf, eps: m.eps))
        let logits = p.buffer("logits", m.vocab)
        p.steps.append(Step(kernel: .linear, inputs: [nf], weights: [p.tensor("output", [m.vocab, h], m.head)], output: logits))
        return p.build(output: logits, hidden: h, vocab: m.vocab, maxContext: maxContext, maxRows: maxRows)
    }

    /// Fused: qkv_rope (attention norm folded), attention_qkv, swiglu (FFN norm folded), head with the output
    /// norm folded. `foldNorms: false` leaves the norm weights out of the matrices: a deliberately wrong plan.
    static func fused(_ m: ToyModel, maxRows: Int = 8, maxContext: Int = 64, foldNorms: Bool = true) -> (ExecutionPlan, TestBlob) {
        var p = PlanBuilder()
        let h = m.hidden
        func fold(_ w: [Float], _ g: [Float]) -> [Float] { foldNorms ? foldColumns(w, g) : w }
        let table = p.tensor("token_embd", [m.vocab, h], m.embed)
        var x = p.buffer("x", h)
        p.steps.append(Step(kernel: .embed, inputs: [], weights: [table], output: x))
        for (i, b) in m.blocks.enumerated() {
            let d = b.headDim, qw = b.heads * d, total = (b.heads + 2 * b.kvHeads) * d
            let w = p.tensor("blk.\(i).attn_qkv", [total, h], fold(b.wq + b.wk + b.wv, b.attnNorm))
            let bias = p.tensor("blk.\(i).attn_qkv.bias", [total], b.bq + b.bk + b.bv)
            let qkv = p.buffer("b\(i).qkv", total)
            p.steps.append(Step(kernel: .qkvRope, block: i, inputs: [x], weights: [w, bias], output: qkv, eps: m.eps,
                                heads: b.heads, kvHeads: b.kvHeads, headDim: d, theta: b.theta))
            let a = p.buffer("b\(i).attn", qw)
            let slot = p.kvSlot(block: i, kvHeads: b.kvHeads, headDim: d)
            p.steps.append(Step(kernel: .attentionQKV, block: i, inputs: [qkv], output: a, heads: b.heads, kvHeads: b.kvHeads, headDim: d, kvSlot: slot))
            let o = p.buffer("b\(i).o", h)
            p.steps.append(Step(kernel: .linear, block: i, inputs: [a], weights: [p.tensor("blk.\(i).attn_output", [h, qw], b.wo)], output: o))
            let x1 = p.buffer("b\(i).x1", h)
            p.steps.append(Step(kernel: .add, block: i, inputs: [x, o], output: x1))
            let gu = p.tensor("blk.\(i).ffn_gate_up", [2 * b.ffn, h], fold(b.gate + b.up, b.ffnNorm))
            let f = p.buffer("b\(i).ffn", b.ffn)
            p.steps.append(Step(kernel: .swiglu, block: i, inputs: [x1], weights: [gu], output: f, eps: m.eps, ffn: b.ffn))
            let dn = p.buffer("b\(i).down", h)
            p.steps.append(Step(kernel: .linear, block: i, inputs: [f], weights: [p.tensor("blk.\(i).ffn_down", [h, b.ffn], b.down)], output: dn))
            p.steps.append(Step(kernel: .add, block: i, inputs: [x1, dn], output: x1))
            x = x1
        }
        let logits = p.buffer("logits", m.vocab)
        p.steps.append(Step(kernel: .linear, inputs: [x], weights: [p.tensor("output", [m.vocab, h], fold(m.head, m.outNorm))], output: logits, eps: m.eps))
        return p.build(output: logits, hidden: h, vocab: m.vocab, maxContext: maxContext, maxRows: maxRows)
    }
}

/// A runtime over a test plan; the blob stays alive as its keepAlive.
func makeRuntime(_ built: (ExecutionPlan, TestBlob)) throws -> PlanRuntime {
    try PlanRuntime(plan: built.0, weights: built.1.buffer, keepAlive: built.1)
}
