// Lifting: a llama/qwen2/mistral decoder checkpoint becomes an IR module (lazy parameters, SSA `forward`).
import PareCheckpoint
import PareIR

/// How to lift one checkpoint: its config, its tensor names, and where it came from.
public struct LiftInput {
    public var config: ModelConfig
    public var names: TensorNames
    public var reader: TensorReader
    public var vocabulary: Vocabulary
    /// `gguf` or `hf`.
    public var format: String
    public var sha256: String
    /// True for llama-architecture GGUF files, whose Q/K rows llama.cpp's converter permuted.
    public var unpermuteQK: Bool
    /// The checkpoint's chat template (Jinja text), recorded as metadata `chat_template` for the plan's users.
    public var chatTemplate: String?

    public init(config: ModelConfig, names: TensorNames, reader: TensorReader, vocabulary: Vocabulary,
                format: String, sha256: String, unpermuteQK: Bool, chatTemplate: String? = nil) {
        self.chatTemplate = chatTemplate
        self.config = config
        self.names = names
        self.reader = reader
        self.vocabulary = vocabulary
        self.format = format
        self.sha256 = sha256
        self.unpermuteQK = unpermuteQK
    }
}

/// Builds the IR module of a decoder-only transformer:
///
///     %0 = embed @token_embd.weight, %tokens
///     per block i: rms_norm -> q/k/v linear (+bias) -> rope q, k -> attention {kv_slot = i} -> o linear -> add
///                  rms_norm -> gate, up linear -> silu(gate) * up -> down linear -> add
///     rms_norm @output_norm.weight -> linear @output.weight (or the embedding table when tied) -> return
public func lift(_ input: LiftInput) throws -> Module {
    let c = input.config
    let path = input.reader.path
    var params: [Parameter] = []
    var declared = Set<String>()

    /// Declares a parameter for a checkpoint tensor, checking its shape against the config.
    func param(_ name: String, _ expected: [Int], views: [ParameterView] = []) throws -> Operand {
        guard let info = input.reader.info(name) else { throw LiftError.missingTensor(path: path, tensor: name) }
        guard info.shape == expected else { throw LiftError.tensorShape(path: path, tensor: name, expected: expected, found: info.shape) }
        if declared.insert(name).inserted {
            params.append(Parameter(name: name, shape: expected, source: TensorSource(tensor: name, encoding: info.encoding, shape: info.shape),
                                    views: views))
        }
        return .param(name)
    }

    let tokens = Value(0)
    var b = Builder(firstValue: 1)
    let embedding = try param(input.names.embedding, [c.vocabSize, c.hidden])
    var x = b.op(.embed, [embedding, .value(tokens)], type: .activations(c.hidden))
    let eps = Attribute.float(c.rmsNormEps)
    var blocks: [BlockDims] = []

    for i in 0..<c.layers {
        let d = c.headDim, qw = c.heads * d, kvw = c.kvHeads * d
        blocks.append(BlockDims(index: i, hidden: c.hidden, heads: c.heads, kvHeads: c.kvHeads, headDim: d, ffn: c.ffn))
        let name = { (role: TensorNames.BlockTensor) in input.names.block(i, role) }
        func proj(_ w: TensorNames.BlockTensor, _ bias: TensorNames.BlockTensor, out: Int, heads: Int, from h: Value) throws -> Value {
            var ops = [Operand.value(h), try param(name(w), [out, c.hidden], views: input.unpermuteQK && heads > 0 ? [.unpermuteRoPE(heads: heads)] : [])]
            if c.attentionBias { ops.append(try param(name(bias), [out])) }
            return b.op(.linear, ops, block: i, type: .activations(out))
        }
        let h = b.op(.rmsNorm, [.value(x), try param(name(.attnNorm), [c.hidden])], ["eps": eps], block: i, type: .activations(c.hidden))
        let q = try proj(.q, .qBias, out: qw, heads: c.heads, from: h)
        let k = try proj(.k, .kBias, out: kvw, heads: c.kvHeads, from: h)
        let v = try proj(.v, .vBias, out: kvw, heads: 0, from: h)
        let theta = Attribute.float(c.ropeTheta)
        let qr = b.op(.rope, [.value(q)], ["heads": .int(c.heads), "head_dim": .int(d), "theta": theta], block: i, type: .activations(qw))
        let kr = b.op(.rope, [.value(k)], ["heads": .int(c.kvHeads), "head_dim": .int(d), "theta": theta], block: i, type: .activations(kvw))
        let a = b.op(.attention, [.value(qr), .value(kr), .value(v)],
                     ["heads": .int(c.heads), "kv_heads": .int(c.kvHeads), "head_dim": .int(d), "kv_slot": .int(i)],
                     block: i, type: .activations(qw))
        let o = b.op(.linear, [.value(a), try param(name(.o), [c.hidden, qw])], block: i, type: .activations(c.hidden))
        x = b.op(.add, [.value(x), .value(o)], block: i, type: .activations(c.hidden))
        let h2 = b.op(.rmsNorm, [.value(x), try param(name(.ffnNorm), [c.hidden])], ["eps": eps], block: i, type: .activations(c.hidden))
        let g = b.op(.linear, [.value(h2), try param(name(.gate), [c.ffn, c.hidden])], block: i, type: .activations(c.ffn))
        let u = b.op(.linear, [.value(h2), try param(name(.up), [c.ffn, c.hidden])], block: i, type: .activations(c.ffn))
        let s = b.op(.silu, [.value(g)], block: i, type: .activations(c.ffn))
        let p = b.op(.mul, [.value(s), .value(u)], block: i, type: .activations(c.ffn))
        let dn = b.op(.linear, [.value(p), try param(name(.down), [c.hidden, c.ffn])], block: i, type: .activations(c.hidden))
        x = b.op(.add, [.value(x), .value(dn)], block: i, type: .activations(c.hidden))
    }
    let n = b.op(.rmsNorm, [.value(x), try param(input.names.outputNorm, [c.hidden])], ["eps": eps], type: .activations(c.hidden))
    let head = c.tiedEmbeddings ? embedding : try param(input.names.lmHead, [c.vocabSize, c.hidden])
    let logits = b.op(.linear, [.value(n), head], type: .activations(c.vocabSize))

    var metadata: [(key: String, value: Attribute)] = [
        (MetaKey.architecture, .string(c.architecture)),
        (MetaKey.sourceFormat, .string(input.format)),
        (MetaKey.sourcePath, .string(path)),
        (MetaKey.sourceSHA256, .string(input.sha256)),
        ("context_length", .int(c.contextLength)),
        ("rms_norm_eps", .float(c.rmsNormEps)),
        ("rope_theta", .float(c.ropeTheta)),
        ("tied_embeddings", .bool(c.tiedEmbeddings)),
    ]
    if let t = input.chatTemplate { metadata.append((MetaKey.chatTemplate, .string(t))) }
    let function = Function(arguments: [(name: "tokens", value: tokens, type: TensorType([.seq], .i32))], ops: b.ops, result: logits)
    return Module(name: c.name, metadata: metadata, blocks: blocks, parameters: params, vocabulary: input.vocabulary, function: function)
}
