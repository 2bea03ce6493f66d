// A hand-built tiny llama/qwen2 module for the IR tests: hidden 8, heads 2, kv_heads 1, head_dim 4, ffn 16, vocab 10.
import PareIR

/// Dims of the tiny model.
enum Tiny {
    static let hidden = 8, heads = 2, kvHeads = 1, headDim = 4, ffn = 16, vocab = 10
}

/// Builds a tiny decoder: `blocks` blocks, an LM head tied to the embedding or not, q/k/v biases (qwen2) or not.
/// Values: the argument is %v0, ops start at %v1 (as lifting numbers them).
func tinyModule(blocks: Int = 2, tied: Bool = false, qkvBias: Bool = false) -> Module {
    let h = Tiny.hidden, q = Tiny.heads * Tiny.headDim, kv = Tiny.kvHeads * Tiny.headDim, f = Tiny.ffn, V = Tiny.vocab
    var params: [Parameter] = []
    func param(_ name: String, _ shape: [Int], _ encoding: String = "f32", views: [ParameterView] = []) -> Operand {
        params.append(Parameter(name: name, shape: shape, source: TensorSource(tensor: name, encoding: encoding, shape: shape),
                                views: views))
        return .param(name)
    }
    let tokens = Value(0)
    var b = Builder(firstValue: 1)
    let table = param("token_embd.weight", [V, h], "q8_0")
    var x = b.op(.embed, [table, .value(tokens)], type: .activations(h))
    for i in 0..<blocks {
        let p = "blk.\(i)."
        let n = b.op(.rmsNorm, [.value(x), param(p + "attn_norm.weight", [h])], ["eps": .float(1e-5)], block: i, type: .activations(h))
        func proj(_ name: String, _ out: Int, bias: Bool, views: [ParameterView] = []) -> Value {
            var ops: [Operand] = [.value(n), param(p + name + ".weight", [out, h], "q4_1", views: views)]
            if bias { ops.append(param(p + name + ".bias", [out])) }
            return b.op(.linear, ops, block: i, type: .activations(out))
        }
        let qv = proj("attn_q", q, bias: qkvBias, views: [.unpermuteRoPE(heads: Tiny.heads)])
        let kv_ = proj("attn_k", kv, bias: qkvBias, views: [.unpermuteRoPE(heads: Tiny.kvHeads)])
        let vv = proj("attn_v", kv, bias: qkvBias)
        let qr = b.op(.rope, [.value(qv)], ["heads": .int(Tiny.heads), "head_dim": .int(Tiny.headDim), "theta": .float(10000)],
                      block: i, type: .activations(q))
        let kr = b.op(.rope, [.value(kv_)], ["heads": .int(Tiny.kvHeads), "head_dim": .int(Tiny.headDim), "theta": .float(10000)],
                      block: i, type: .activations(kv))
        let a = b.op(.attention, [.value(qr), .value(kr), .value(vv)],
                     ["heads": .int(Tiny.heads), "kv_heads": .int(Tiny.kvHeads), "head_dim": .int(Tiny.headDim), "kv_slot": .int(i)],
                     block: i, type: .activations(q))
        let o = b.op(.linear, [.value(a), param(p + "attn_output.weight", [h, q])], block: i, type: .activations(h))
        let r = b.op(.add, [.value(x), .value(o)], block: i, type: .activations(h))
        let n2 = b.op(.rmsNorm, [.value(r), param(p + "ffn_norm.weight", [h])], ["eps": .float(1e-5)], block: i, type: .activations(h))
        let g = b.op(.linear, [.value(n2), param(p + "ffn_gate.weight", [f, h], "q4_k")], block: i, type: .activations(f))
        let u = b.op(.linear, [.value(n2), param(p + "ffn_up.weight", [f, h], "q4_k")], block: i, type: .activations(f))
        let s = b.op(.silu, [.value(g)], block: i, type: .activations(f))
        let m = b.op(.mul, [.value(s), .value(u)], block: i, type: .activations(f))
        let d = b.op(.linear, [.value(m), param(p + "ffn_down.weight", [h, f], "q6_k")], block: i, type: .activations(h))
        x = b.op(.add, [.value(r), .value(d)], block: i, type: .activations(h))
    }
    let fn = b.op(.rmsNorm, [.value(x), param("output_norm.weight", [h])], ["eps": .float(1e-5)], type: .activations(h))
    let head: Operand = tied ? table : param("output.weight", [V, h], "q6_k")
    let logits = b.op(.linear, [.value(fn), head], type: .activations(V))
    return Module(
        name: "tiny-llama",
        metadata: [(MetaKey.architecture, .string(qkvBias ? "qwen2" : "llama")), (MetaKey.sourceFormat, .string("gguf")),
                   (MetaKey.sourcePath, .string("tiny.gguf")), (MetaKey.sourceSHA256, .string(String(repeating: "ab", count: 32))),
                   ("context_length", .int(64)), ("rope.theta", .float(10000))],
        blocks: (0..<blocks).map { BlockDims(index: $0, hidden: h, heads: Tiny.heads, kvHeads: Tiny.kvHeads, headDim: Tiny.headDim, ffn: f) },
        parameters: params,
        vocabulary: Vocabulary(size: V, mergeCount: 3, preTokenizer: "smollm",
                               specials: [SpecialToken(role: "bos", id: 1, text: "<|im_start|>"),
                                          SpecialToken(role: "eos", id: 2, text: "<|im_end|>")]),
        function: Function(arguments: [("tokens", tokens, TensorType([.seq], .i32))], ops: b.ops, result: logits))
}
