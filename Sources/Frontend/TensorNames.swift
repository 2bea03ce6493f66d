// The tensor names of a decoder checkpoint, per format: GGUF's `blk.N.*` and Hugging Face's `model.layers.N.*`.

/// Where each weight of a llama/qwen2-style decoder lives in a checkpoint.
public struct TensorNames: Sendable {
    public var embedding: String
    public var outputNorm: String
    /// The untied LM head; absent from tied checkpoints.
    public var lmHead: String
    public var block: @Sendable (_ layer: Int, _ role: BlockTensor) -> String

    /// The weights of one transformer block.
    public enum BlockTensor: String, CaseIterable, Sendable {
        case attnNorm, q, k, v, qBias, kBias, vBias, o, ffnNorm, gate, up, down
    }

    /// llama.cpp's GGUF names.
    public static let gguf = TensorNames(embedding: "token_embd.weight", outputNorm: "output_norm.weight", lmHead: "output.weight") { i, role in
        let suffix: String
        switch role {
        case .attnNorm: suffix = "attn_norm.weight"
        case .q: suffix = "attn_q.weight"
        case .k: suffix = "attn_k.weight"
        case .v: suffix = "attn_v.weight"
        case .qBias: suffix = "attn_q.bias"
        case .kBias: suffix = "attn_k.bias"
        case .vBias: suffix = "attn_v.bias"
        case .o: suffix = "attn_output.weight"
        case .ffnNorm: suffix = "ffn_norm.weight"
        case .gate: suffix = "ffn_gate.weight"
        case .up: suffix = "ffn_up.weight"
        case .down: suffix = "ffn_down.weight"
        }
        return "blk.\(i).\(suffix)"
    }

    /// Hugging Face transformers' names.
    public static let huggingFace = TensorNames(embedding: "model.embed_tokens.weight", outputNorm: "model.norm.weight", lmHead: "lm_head.weight") { i, role in
        let suffix: String
        switch role {
        case .attnNorm: suffix = "input_layernorm.weight"
        case .q: suffix = "self_attn.q_proj.weight"
        case .k: suffix = "self_attn.k_proj.weight"
        case .v: suffix = "self_attn.v_proj.weight"
        case .qBias: suffix = "self_attn.q_proj.bias"
        case .kBias: suffix = "self_attn.k_proj.bias"
        case .vBias: suffix = "self_attn.v_proj.bias"
        case .o: suffix = "self_attn.o_proj.weight"
        case .ffnNorm: suffix = "post_attention_layernorm.weight"
        case .gate: suffix = "mlp.gate_proj.weight"
        case .up: suffix = "mlp.up_proj.weight"
        case .down: suffix = "mlp.down_proj.weight"
        }
        return "model.layers.\(i).\(suffix)"
    }
}
