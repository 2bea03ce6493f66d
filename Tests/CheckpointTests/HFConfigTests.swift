// config.json: Hugging Face keys decoded, defaults applied, the registry consulted, bad files named.
import Foundation
import PareCheckpoint
import XCTest

final class HFConfigTests: XCTestCase {
    var dir: HFTempDirectory!

    override func setUpWithError() throws { dir = try HFTempDirectory() }
    override func tearDown() { dir.cleanUp() }

    private func load(_ json: String) throws -> HFConfig {
        try HFConfig.load(path: try dir.write("config.json", json))
    }

    private func modelConfig(_ edit: [String: Any?]) throws -> ModelConfig {
        try load(hfConfigJSON(edit)).modelConfig(name: "tiny")
    }

    /// SmolLM2-135M-Instruct's own config.json (as published), trimmed of keys Pare ignores.
    func testSmolLM2Config() throws {
        let c = try load("""
            {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
             "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 576,
             "initializer_range": 0.041666666666666664, "intermediate_size": 1536, "max_position_embeddings": 8192,
             "mlp_bias": false, "model_type": "llama", "num_attention_heads": 9, "num_hidden_layers": 30,
             "num_key_value_heads": 3, "pad_token_id": 2, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
             "rope_scaling": null, "rope_theta": 100000, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
             "transformers.js_config": {"kv_cache_dtype": {"q4f16": "float16", "fp16": "float16"}},
             "transformers_version": "4.42.3", "use_cache": true, "vocab_size": 49152}
            """)
        XCTAssertEqual(c.kvHeads, 3)
        XCTAssertEqual(c.torchDtype, "bfloat16")
        XCTAssertEqual(c.eosTokenIds, [2])
        XCTAssertEqual(c.architectures, ["LlamaForCausalLM"])
        XCTAssertEqual(try c.modelConfig(name: "smol"), ModelConfig(
            architecture: "llama", name: "smol", hidden: 576, layers: 30, heads: 9, kvHeads: 3, headDim: 64, ffn: 1536,
            vocabSize: 49152, rmsNormEps: 1e-5, ropeTheta: 100000, contextLength: 8192, tiedEmbeddings: true,
            attentionBias: false))
    }

    /// Qwen2.5-Coder-0.5B-Instruct's config.json: qwen2 always has q/k/v biases.
    func testQwen2Config() throws {
        let c = try load("""
            {"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
             "eos_token_id": [151645, 151643], "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02,
             "intermediate_size": 4864, "max_position_embeddings": 32768, "max_window_layers": 24,
             "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24, "num_key_value_heads": 2,
             "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": true,
             "torch_dtype": "bfloat16", "use_cache": true, "use_sliding_window": false, "vocab_size": 151936}
            """)
        XCTAssertEqual(c.eosTokenIds, [151645, 151643])
        let m = try c.modelConfig(name: "qwen")
        XCTAssertEqual(m.architecture, "qwen2")
        XCTAssertTrue(m.attentionBias)
        XCTAssertEqual(m.headDim, 64)
        XCTAssertEqual(m.kvHeads, 2)
        XCTAssertEqual(m.ropeTheta, 1_000_000)
        XCTAssertEqual(m.rmsNormEps, 1e-6)
    }

    func testMistralAndExplicitHeadDim() throws {
        let m = try modelConfig(["model_type": "mistral", "head_dim": 6, "sliding_window": NSNull()])
        XCTAssertEqual(m.architecture, "mistral")
        XCTAssertEqual(m.headDim, 6)  // not hidden/heads (4): head_dim wins
        XCTAssertFalse(m.attentionBias)
        // head_dim: null means hidden/heads.
        XCTAssertEqual(try modelConfig(["model_type": "mistral", "head_dim": NSNull()]).headDim, 4)
    }

    func testDefaults() throws {
        let c = try load(hfConfigJSON(["rope_theta": nil, "tie_word_embeddings": nil, "num_key_value_heads": nil,
                                       "architectures": nil, "torch_dtype": nil]))
        XCTAssertEqual(c.ropeTheta, 10000)
        XCTAssertFalse(c.tieWordEmbeddings)
        XCTAssertNil(c.kvHeads)
        XCTAssertNil(c.architectures)
        let m = try c.modelConfig(name: "tiny")
        XCTAssertEqual(m.kvHeads, 2)
        XCTAssertEqual(m.headDim, 4)
        XCTAssertEqual(c.path, dir.file("config.json"))
    }

    /// transformers 5 writes rope_theta inside rope_parameters.
    func testRopeParameters() throws {
        let m = try modelConfig(["rope_theta": nil, "rope_parameters": ["rope_theta": 500000.0, "rope_type": "default"]])
        XCTAssertEqual(m.ropeTheta, 500000)
        XCTAssertEqual(try load(hfConfigJSON(["dtype": "bfloat16", "torch_dtype": nil])).torchDtype, "bfloat16")
    }

    func testRegistry() throws {
        XCTAssertEqual(HFArchitecture.supported, ["llama", "mistral", "qwen2"])
        XCTAssertEqual(HFArchitecture.registry["qwen2"]?.attentionBias, .always)
        XCTAssertEqual(HFArchitecture.registry["llama"]?.className, "LlamaForCausalLM")
    }

    func testUnknownModelTypeListsSupportedOnes() throws {
        let p = dir.file("config.json")
        assertHFError({ _ = try self.modelConfig(["model_type": "gpt2"]) },
                              mentions: [p, "'gpt2'", "llama, mistral, qwen2"]) {
            if case .unsupported = $0 { return true } else { return false }
        }
    }

    func testMissingFileAndInvalidJSON() throws {
        assertHFError({ _ = try HFConfig.load(path: self.dir.file("config.json")) },
                              mentions: [dir.file("config.json")]) { if case .cannotOpen = $0 { return true } else { return false } }
        assertHFError({ _ = try self.load(#"{"model_type": "llama", "#) }, mentions: [dir.file("config.json"), "JSON"]) {
            if case .malformed = $0 { return true } else { return false }
        }
        assertHFError({ _ = try self.load("[]") }, mentions: [dir.file("config.json")]) {
            if case .malformed = $0 { return true } else { return false }
        }
    }

    func testEveryRequiredKeyIsNamedWhenMissing() throws {
        for key in ["model_type", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                    "rms_norm_eps", "vocab_size", "max_position_embeddings"] {
            assertHFError({ _ = try self.load(hfConfigJSON([key: nil])) }, mentions: [dir.file("config.json"), "'\(key)'"]) {
                if case let .missingKey(_, k) = $0 { return k == key } else { return false }
            }
        }
    }

    func testWrongTypesNameTheKey() throws {
        let cases: [(String, Any)] = [("hidden_size", "576"), ("num_hidden_layers", 2.5), ("tie_word_embeddings", "yes"),
                                      ("rope_theta", "big"), ("model_type", 3), ("eos_token_id", "x"), ("head_dim", [4])]
        for (key, value) in cases {
            assertHFError({ _ = try self.load(hfConfigJSON([key: value])) }, mentions: [dir.file("config.json"), key]) {
                if case .malformed = $0 { return true } else { return false }
            }
        }
    }

    func testNonsenseValuesNameTheKey() throws {
        let cases: [([String: Any?], String)] = [
            (["num_hidden_layers": 0], "num_hidden_layers"),
            (["hidden_size": -8], "hidden_size"),
            (["vocab_size": 0], "vocab_size"),
            (["num_attention_heads": 3, "num_key_value_heads": 1], "num_attention_heads"),  // 3 does not divide 8
            (["num_key_value_heads": 3, "num_attention_heads": 4], "num_key_value_heads"),  // 3 does not divide 4
            (["num_key_value_heads": 0], "num_key_value_heads"),
            (["rms_norm_eps": 0.0], "rms_norm_eps"),
            (["rope_theta": -1.0], "rope_theta"),
            (["head_dim": 3], "head_dim"),
            (["max_position_embeddings": 0], "max_position_embeddings"),
        ]
        for (edit, key) in cases {
            assertHFError({ _ = try self.modelConfig(edit) }, mentions: [dir.file("config.json"), "'\(key)'"]) {
                if case .malformed = $0 { return true } else { return false }
            }
        }
    }

    func testUnsupportedFeaturesAreRefused() throws {
        let cases: [([String: Any?], String)] = [
            (["hidden_act": "gelu"], "hidden_act"),
            (["rope_scaling": ["rope_type": "llama3", "factor": 8.0]], "rope_scaling"),
            (["attention_bias": true], "attention_bias"),
            (["mlp_bias": true], "mlp_bias"),
            (["model_type": "qwen2", "use_sliding_window": true], "use_sliding_window"),
        ]
        for (edit, key) in cases {
            assertHFError({ _ = try self.modelConfig(edit) }, mentions: [dir.file("config.json"), key]) {
                if case .unsupported = $0 { return true } else { return false }
            }
        }
        // The same keys with harmless values are accepted.
        XCTAssertNoThrow(try modelConfig(["hidden_act": "silu", "rope_scaling": NSNull(), "attention_bias": false,
                                          "mlp_bias": false]))
    }
}
