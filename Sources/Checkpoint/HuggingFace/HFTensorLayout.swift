// The tensor names and shapes a Hugging Face llama/qwen2/mistral checkpoint holds for a given config.

/// Hugging Face tensor names of the llama family (shared by llama, qwen2 and mistral).
public enum HFTensorName {
    /// [vocab, hidden]
    public static let embedding = "model.embed_tokens.weight"
    /// [hidden]
    public static let finalNorm = "model.norm.weight"
    /// [vocab, hidden]; absent when the embedding is tied.
    public static let lmHead = "lm_head.weight"

    /// `model.layers.<layer>.<suffix>`, e.g. `layer(3, "self_attn.q_proj.weight")`.
    public static func layer(_ layer: Int, _ suffix: String) -> String { "model.layers.\(layer).\(suffix)" }

    /// The tensors a checkpoint must hold for `config`, with their shapes (outermost first).
    public static func expectedTensors(for config: ModelConfig) -> [(name: String, shape: [Int])] {
        let (h, q, kv, f, v) = (config.hidden, config.heads * config.headDim,
                                config.kvHeads * config.headDim, config.ffn, config.vocabSize)
        var out: [(name: String, shape: [Int])] = [(HFTensorName.embedding, [v, h])]
        for l in 0..<config.layers {
            out.append((HFTensorName.layer(l, "input_layernorm.weight"), [h]))
            out.append((HFTensorName.layer(l, "self_attn.q_proj.weight"), [q, h]))   // [heads*headDim, hidden]
            out.append((HFTensorName.layer(l, "self_attn.k_proj.weight"), [kv, h]))  // [kvHeads*headDim, hidden]
            out.append((HFTensorName.layer(l, "self_attn.v_proj.weight"), [kv, h]))
            if config.attentionBias {
                out.append((HFTensorName.layer(l, "self_attn.q_proj.bias"), [q]))
                out.append((HFTensorName.layer(l, "self_attn.k_proj.bias"), [kv]))
                out.append((HFTensorName.layer(l, "self_attn.v_proj.bias"), [kv]))
            }
            out.append((HFTensorName.layer(l, "self_attn.o_proj.weight"), [h, q]))
            out.append((HFTensorName.layer(l, "post_attention_layernorm.weight"), [h]))
            out.append((HFTensorName.layer(l, "mlp.gate_proj.weight"), [f, h]))
            out.append((HFTensorName.layer(l, "mlp.up_proj.weight"), [f, h]))
            out.append((HFTensorName.layer(l, "mlp.down_proj.weight"), [h, f]))
        }
        out.append((HFTensorName.finalNorm, [h]))
        if !config.tiedEmbeddings { out.append((HFTensorName.lmHead, [v, h])) }
        return out
    }
}
