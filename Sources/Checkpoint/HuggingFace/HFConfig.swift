// config.json of a Hugging Face decoder-only model, with Hugging Face's own key names kept.
import Foundation

/// The parts of a Hugging Face `config.json` that Pare reads. Unknown keys are ignored; optional keys
/// take Hugging Face's defaults. Load it with `HFConfig.load(path:)`, which names the file in errors.
public struct HFConfig: Decodable, Sendable, Hashable {
    /// `llama`, `qwen2`, `mistral`: selects the architecture in `HFArchitecture.registry`.
    public var modelType: String
    /// Class names, e.g. `["LlamaForCausalLM"]`.
    public var architectures: [String]?
    /// Width of the residual stream.
    public var hidden: Int
    /// Width of the FFN (gate/up output, down input).
    public var intermediate: Int
    /// Number of decoder blocks.
    public var layers: Int
    /// Query heads per block.
    public var heads: Int
    /// Absent means multi-head attention (as many KV heads as query heads).
    public var kvHeads: Int?
    /// Absent (or null) means `hidden / heads`.
    public var headDim: Int?
    /// Epsilon of every RMS norm.
    public var rmsNormEps: Double
    /// `rope_theta`, or `rope_parameters.rope_theta` (transformers 5), else 10000.
    public var ropeTheta: Double
    /// Rows of the embedding (and LM head).
    public var vocabSize: Int
    /// Context length the model was trained for.
    public var maxPositionEmbeddings: Int
    /// Default false.
    public var tieWordEmbeddings: Bool
    /// Llama's switch for biases on q/k/v/o.
    public var attentionBias: Bool?
    /// Llama's switch for biases on gate/up/down.
    public var mlpBias: Bool?
    /// Activation of the gated FFN; absent means `silu`.
    public var hiddenAct: String?
    /// `torch_dtype` (or `dtype` in transformers 5): `float32`, `bfloat16`, ...
    public var torchDtype: String?
    /// Beginning-of-sequence id, if given.
    public var bosTokenId: Int?
    /// `eos_token_id`, which config files give as one id or a list.
    public var eosTokenIds: [Int]?
    /// The RoPE scaling type (`rope_scaling.type`/`rope_type`, or `rope_parameters.rope_type`), if any.
    public var ropeScalingType: String?
    /// Qwen2's sliding-window switch.
    public var useSlidingWindow: Bool?
    /// Sliding-window size (qwen2, mistral); Pare attends over the whole context.
    public var slidingWindow: Int?

    /// The file this was read from, for messages (not part of the JSON).
    public var path: String = "config.json"

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type"
        case architectures
        case hidden = "hidden_size"
        case intermediate = "intermediate_size"
        case layers = "num_hidden_layers"
        case heads = "num_attention_heads"
        case kvHeads = "num_key_value_heads"
        case headDim = "head_dim"
        case rmsNormEps = "rms_norm_eps"
        case ropeTheta = "rope_theta"
        case ropeParameters = "rope_parameters"
        case ropeScaling = "rope_scaling"
        case vocabSize = "vocab_size"
        case maxPositionEmbeddings = "max_position_embeddings"
        case tieWordEmbeddings = "tie_word_embeddings"
        case attentionBias = "attention_bias"
        case mlpBias = "mlp_bias"
        case hiddenAct = "hidden_act"
        case torchDtype = "torch_dtype"
        case dtype
        case bosTokenId = "bos_token_id"
        case eosTokenId = "eos_token_id"
        case useSlidingWindow = "use_sliding_window"
        case slidingWindow = "sliding_window"
    }

    /// `rope_scaling` / `rope_parameters`: only the fields Pare looks at.
    private struct Rope: Decodable {
        var ropeTheta: Double?
        var ropeType: String?
        var type: String?
        enum CodingKeys: String, CodingKey {
            case ropeTheta = "rope_theta", ropeType = "rope_type", type
        }
    }

    /// One id or a list of ids.
    private struct TokenIds: Decodable {
        var ids: [Int]
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let one = try? c.decode(Int.self) { ids = [one] } else { ids = try c.decode([Int].self) }
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        modelType = try c.decode(String.self, forKey: .modelType)
        architectures = try c.decodeIfPresent([String].self, forKey: .architectures)
        hidden = try c.decodeInteger(forKey: .hidden)
        intermediate = try c.decodeInteger(forKey: .intermediate)
        layers = try c.decodeInteger(forKey: .layers)
        heads = try c.decodeInteger(forKey: .heads)
        kvHeads = try c.decodeIntegerIfPresent(forKey: .kvHeads)
        headDim = try c.decodeIntegerIfPresent(forKey: .headDim)
        rmsNormEps = try c.decode(Double.self, forKey: .rmsNormEps)
        let parameters = try c.decodeIfPresent(Rope.self, forKey: .ropeParameters)
        let scaling = try c.decodeIfPresent(Rope.self, forKey: .ropeScaling)
        ropeTheta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? parameters?.ropeTheta ?? 10000
        let scalingType = scaling.map { $0.ropeType ?? $0.type ?? "unnamed" } ?? parameters?.ropeType
        ropeScalingType = scalingType == "default" ? nil : scalingType
        vocabSize = try c.decodeInteger(forKey: .vocabSize)
        maxPositionEmbeddings = try c.decodeInteger(forKey: .maxPositionEmbeddings)
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false
        attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias)
        mlpBias = try c.decodeIfPresent(Bool.self, forKey: .mlpBias)
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct)
        torchDtype = try c.decodeIfPresent(String.self, forKey: .torchDtype) ?? c.decodeIfPresent(String.self, forKey: .dtype)
        bosTokenId = try c.decodeIntegerIfPresent(forKey: .bosTokenId)
        eosTokenIds = try c.decodeIfPresent(TokenIds.self, forKey: .eosTokenId)?.ids
        useSlidingWindow = try c.decodeIfPresent(Bool.self, forKey: .useSlidingWindow)
        slidingWindow = try c.decodeIntegerIfPresent(forKey: .slidingWindow)
    }

    /// Reads and decodes `path` (a config.json). Errors name the file and the key.
    public static func load(path: String) throws -> HFConfig {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CheckpointError.cannotOpen(path: path, reason: "no such file (a Hugging Face directory needs config.json)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError.cannotOpen(path: path, reason: "cannot read the file")
        }
        do {
            var config = try JSONDecoder().decode(HFConfig.self, from: data)
            config.path = path
            return config
        } catch let DecodingError.keyNotFound(key, ctx) where ctx.codingPath.isEmpty {
            throw CheckpointError.missingKey(path: path, key: key.stringValue)
        } catch let error as DecodingError {
            throw CheckpointError.malformed(path: path, detail: describeDecodingError(error, data: data))
        }
    }
}
