// The architectures Pare reads from Hugging Face directories, registered by `model_type`.

/// What distinguishes one supported `model_type` from another.
public struct HFArchitecture: Sendable, Hashable {
    /// Where the q/k/v biases come from.
    public enum AttentionBias: Sendable, Hashable {
        /// Always present (qwen2).
        case always
        /// Never present (mistral).
        case never
        /// Present when config.json says `attention_bias: true` (llama).
        case configKey
    }

    /// The `model_type` string, also `ModelConfig.architecture`.
    public var modelType: String
    /// The transformers class, for config.json files written by Pare.
    public var className: String
    /// Where q/k/v biases come from.
    public var attentionBias: AttentionBias

    /// Every supported architecture, by `model_type`.
    public static let registry: [String: HFArchitecture] = [
        "llama": HFArchitecture(modelType: "llama", className: "LlamaForCausalLM", attentionBias: .configKey),
        "mistral": HFArchitecture(modelType: "mistral", className: "MistralForCausalLM", attentionBias: .never),
        "qwen2": HFArchitecture(modelType: "qwen2", className: "Qwen2ForCausalLM", attentionBias: .always),
    ]

    /// The supported `model_type`s, sorted, for messages.
    public static var supported: [String] { registry.keys.sorted() }

    /// The architecture for `modelType`, or a typed error naming `path` and listing the supported ones.
    public static func lookup(_ modelType: String, path: String) throws -> HFArchitecture {
        guard let a = registry[modelType] else {
            throw CheckpointError.unsupported(path: path, detail:
                "model_type '\(modelType)' is not supported; Pare reads \(supported.joined(separator: ", "))")
        }
        return a
    }
}

extension HFConfig {
    /// The architecture-neutral hyper-parameters, after checking that they make sense.
    /// Errors name config.json and the offending key.
    public func modelConfig(name: String) throws -> ModelConfig {
        let arch = try HFArchitecture.lookup(modelType, path: path)
        func bad(_ key: String, _ why: String) -> CheckpointError {
            .malformed(path: path, detail: "key '\(key)' \(why)")
        }
        for (key, v) in [("hidden_size", hidden), ("intermediate_size", intermediate), ("num_hidden_layers", layers),
                         ("num_attention_heads", heads), ("vocab_size", vocabSize),
                         ("max_position_embeddings", maxPositionEmbeddings)] where v <= 0 {
            throw bad(key, "is \(v); it must be positive")
        }
        let kv = kvHeads ?? heads
        guard kv > 0 else { throw bad("num_key_value_heads", "is \(kv); it must be positive") }
        guard heads % kv == 0 else {
            throw bad("num_key_value_heads", "is \(kv), which does not divide num_attention_heads (\(heads))")
        }
        let dim: Int
        if let d = headDim {
            guard d > 0, d % 2 == 0 else { throw bad("head_dim", "is \(d); it must be positive and even (RoPE rotates pairs)") }
            dim = d
        } else {
            guard hidden % heads == 0 else {
                throw bad("num_attention_heads", "is \(heads), which does not divide hidden_size (\(hidden)) and there is no head_dim")
            }
            dim = hidden / heads
            guard dim % 2 == 0 else { throw bad("num_attention_heads", "gives an odd head size \(dim); RoPE rotates pairs") }
        }
        guard rmsNormEps > 0, rmsNormEps.isFinite else { throw bad("rms_norm_eps", "is \(rmsNormEps); it must be positive") }
        guard ropeTheta > 0, ropeTheta.isFinite else { throw bad("rope_theta", "is \(ropeTheta); it must be positive") }
        if let act = hiddenAct, act != "silu" {
            throw CheckpointError.unsupported(path: path, detail: "key 'hidden_act' is '\(act)'; Pare supports 'silu'")
        }
        if let scaling = ropeScalingType {
            throw CheckpointError.unsupported(path: path, detail: "key 'rope_scaling' has type '\(scaling)'; Pare supports plain RoPE only")
        }
        if mlpBias == true {
            throw CheckpointError.unsupported(path: path, detail: "key 'mlp_bias' is true; Pare supports FFNs without biases")
        }
        if useSlidingWindow == true {
            throw CheckpointError.unsupported(path: path, detail: "key 'use_sliding_window' is true; Pare supports full causal attention only")
        }
        let bias: Bool
        switch arch.attentionBias {
        case .always: bias = true
        case .never: bias = false
        case .configKey:
            if attentionBias == true {
                throw CheckpointError.unsupported(path: path, detail:
                    "key 'attention_bias' is true (biases on q/k/v and o); Pare supports biases on q/k/v only (qwen2)")
            }
            bias = false
        }
        return ModelConfig(architecture: arch.modelType, name: name, hidden: hidden, layers: layers, heads: heads,
                           kvHeads: kv, headDim: dim, ffn: intermediate, vocabSize: vocabSize, rmsNormEps: rmsNormEps,
                           ropeTheta: ropeTheta, contextLength: maxPositionEmbeddings,
                           tiedEmbeddings: tieWordEmbeddings, attentionBias: bias)
    }
}
