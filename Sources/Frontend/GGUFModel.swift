// Reading a GGUF file's model config and vocabulary: llama.cpp's metadata keys mapped to Pare's types.
import PareCheckpoint
import PareIR
import PareTokenizer

/// Architectures Pare lifts from GGUF, each with whether llama.cpp's converter permuted its Q/K rows.
let ggufArchitectures: [String: Bool] = ["llama": true, "mistral": true, "qwen2": false]

extension GGUFFile {
    private func required(_ key: String) throws -> GGUFValue {
        guard let v = metadata[key] else { throw LiftError.missingMetadata(path: path, key: key) }
        return v
    }
    private func positiveInt(_ key: String) throws -> Int {
        guard let v = try required(key).int, v > 0 else { throw LiftError.badMetadata(path: path, key: key, detail: "must be a positive integer") }
        return v
    }

    /// The architecture name, checked to be one Pare lifts.
    public func architecture() throws -> String {
        guard let arch = try required("general.architecture").string else {
            throw LiftError.badMetadata(path: path, key: "general.architecture", detail: "must be a string")
        }
        guard ggufArchitectures[arch] != nil else { throw LiftError.unsupportedArchitecture(path: path, architecture: arch) }
        return arch
    }

    /// The model's hyper-parameters from `<arch>.*` metadata.
    public func modelConfig() throws -> ModelConfig {
        let arch = try architecture()
        let hidden = try positiveInt("\(arch).embedding_length")
        let heads = try positiveInt("\(arch).attention.head_count")
        let kvHeads = metadata["\(arch).attention.head_count_kv"] == nil ? heads : try positiveInt("\(arch).attention.head_count_kv")
        let headDim = metadata["\(arch).attention.key_length"] == nil ? hidden / heads : try positiveInt("\(arch).attention.key_length")
        guard heads % kvHeads == 0 else {
            throw LiftError.badMetadata(path: path, key: "\(arch).attention.head_count_kv", detail: "(\(kvHeads)) must divide head_count (\(heads))")
        }
        let tokens = metadata["tokenizer.ggml.tokens"]?.array?.count
        let vocab = metadata["\(arch).vocab_size"] == nil ? tokens ?? 0 : try positiveInt("\(arch).vocab_size")
        guard vocab > 0 else { throw LiftError.missingMetadata(path: path, key: "\(arch).vocab_size") }
        guard let eps = try required("\(arch).attention.layer_norm_rms_epsilon").double, eps > 0 else {
            throw LiftError.badMetadata(path: path, key: "\(arch).attention.layer_norm_rms_epsilon", detail: "must be a positive number")
        }
        let theta = metadata["\(arch).rope.freq_base"]?.double ?? 10_000
        let name = metadata["general.name"]?.string ?? metadata["general.basename"]?.string ?? arch
        return ModelConfig(architecture: arch, name: name, hidden: hidden, layers: try positiveInt("\(arch).block_count"),
                           heads: heads, kvHeads: kvHeads, headDim: headDim, ffn: try positiveInt("\(arch).feed_forward_length"),
                           vocabSize: vocab, rmsNormEps: eps, ropeTheta: theta,
                           contextLength: metadata["\(arch).context_length"]?.int ?? 0,
                           tiedEmbeddings: info("output.weight") == nil, attentionBias: info("blk.0.attn_q.bias") != nil)
    }

    /// The byte-level BPE vocabulary from `tokenizer.ggml.*`, with its special tokens.
    public func vocabulary() throws -> Vocabulary {
        guard let kind = try required("tokenizer.ggml.model").string, kind == "gpt2" else {
            throw LiftError.unsupportedVocabulary(path: path, detail: "tokenizer.ggml.model is '\(metadata["tokenizer.ggml.model"]?.string ?? "?")'; Pare supports byte-level BPE ('gpt2')")
        }
        guard let tokens = try required("tokenizer.ggml.tokens").strings else {
            throw LiftError.badMetadata(path: path, key: "tokenizer.ggml.tokens", detail: "must be an array of strings")
        }
        guard let merges = try required("tokenizer.ggml.merges").strings else {
            throw LiftError.badMetadata(path: path, key: "tokenizer.ggml.merges", detail: "must be an array of strings")
        }
        let types = metadata["tokenizer.ggml.token_type"]?.ints ?? Array(repeating: 1, count: tokens.count)
        guard types.count == tokens.count else {
            throw LiftError.badMetadata(path: path, key: "tokenizer.ggml.token_type", detail: "has \(types.count) entries for \(tokens.count) tokens")
        }
        let pre = metadata["tokenizer.ggml.pre"]?.string ?? "gpt2"
        let bpe = try BPEModel.fromGGUF(tokens: tokens, tokenTypes: types, merges: merges, pre: pre)
        var specials: [SpecialToken] = []
        for (role, key) in [("bos", "bos_token_id"), ("eos", "eos_token_id"), ("unk", "unknown_token_id"),
                            ("pad", "padding_token_id"), ("eot", "eot_token_id")] {
            guard let id = metadata["tokenizer.ggml.\(key)"]?.int else { continue }
            guard id >= 0 && id < tokens.count else {
                throw LiftError.badMetadata(path: path, key: "tokenizer.ggml.\(key)", detail: "(\(id)) is not a token id")
            }
            specials.append(SpecialToken(role: role, id: id, text: tokens[id]))
        }
        return Vocabulary(size: tokens.count, mergeCount: merges.count, preTokenizer: bpe.preTokenizer, specials: specials, bpe: bpe)
    }
}
