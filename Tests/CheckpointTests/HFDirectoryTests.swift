// A whole Hugging Face directory: config, tokenizer.json and weights opened and checked together.
import Foundation
import PareCheckpoint
import XCTest

final class HFDirectoryTests: XCTestCase {
    var dir: HFTempDirectory!

    override func setUpWithError() throws { dir = try HFTempDirectory() }
    override func tearDown() { dir.cleanUp() }

    /// The tensors of the tiny config from `hfConfigJSON` (hidden 8, ffn 12, 2 layers, 2 heads of 4, 1 KV
    /// head, vocab 10), written out by hand rather than derived from the code under test.
    private func tinyTensors(bias: Bool = false, lmHead: Bool = false,
                             drop: String? = nil, reshape: (String, [Int])? = nil) -> [HFTestTensor] {
        var specs: [(String, [Int])] = [("model.embed_tokens.weight", [10, 8])]
        for l in 0..<2 {
            let p = "model.layers.\(l)."
            specs += [(p + "input_layernorm.weight", [8]), (p + "self_attn.q_proj.weight", [8, 8]),
                      (p + "self_attn.k_proj.weight", [4, 8]), (p + "self_attn.v_proj.weight", [4, 8]),
                      (p + "self_attn.o_proj.weight", [8, 8]), (p + "post_attention_layernorm.weight", [8]),
                      (p + "mlp.gate_proj.weight", [12, 8]), (p + "mlp.up_proj.weight", [12, 8]),
                      (p + "mlp.down_proj.weight", [8, 12])]
            if bias {
                specs += [(p + "self_attn.q_proj.bias", [8]), (p + "self_attn.k_proj.bias", [4]), (p + "self_attn.v_proj.bias", [4])]
            }
        }
        specs.append(("model.norm.weight", [8]))
        if lmHead { specs.append(("lm_head.weight", [10, 8])) }
        return specs.filter { $0.0 != drop }.map { name, shape in
            let s = reshape?.0 == name ? reshape!.1 : shape
            let n = s.reduce(1, *)
            return .f32(name, s, (0..<n).map { Float($0) * 0.5 })
        }
    }

    private func writeDirectory(config: [String: Any?] = [:], tensors: [HFTestTensor], tokenizer: Bool = true) throws {
        try dir.write("config.json", hfConfigJSON(config))
        try dir.write("model.safetensors", safetensorsBytes(tensors))
        if tokenizer { try dir.write("tokenizer.json", #"{"model": {"type": "BPE"}}"#) }
    }

    func testOpensACompleteDirectory() throws {
        try writeDirectory(tensors: tinyTensors())
        let d = try HFDirectory(path: dir.path, name: "tiny")
        XCTAssertEqual(d.modelConfig, ModelConfig(
            architecture: "llama", name: "tiny", hidden: 8, layers: 2, heads: 2, kvHeads: 1, headDim: 4, ffn: 12,
            vocabSize: 10, rmsNormEps: 1e-5, ropeTheta: 10000, contextLength: 64, tiedEmbeddings: true, attentionBias: false))
        XCTAssertEqual(d.tokenizerPath, dir.file("tokenizer.json"))
        XCTAssertNil(d.tokenizerConfigPath)
        XCTAssertEqual(d.checkpoint.tensorInfos.count, 1 + 2 * 9 + 1)
        XCTAssertEqual(try d.checkpoint.readFloat32("model.norm.weight"), (0..<8).map { Float($0) * 0.5 })
        XCTAssertEqual(d.config.modelType, "llama")

        try dir.write("tokenizer_config.json", "{}")
        XCTAssertEqual(try HFDirectory(path: dir.path).tokenizerConfigPath, dir.file("tokenizer_config.json"))
        XCTAssertEqual(try HFDirectory(path: dir.path).modelConfig.name, (dir.path as NSString).lastPathComponent)
    }

    func testQwen2NeedsItsBiasesAndUntiedNeedsLmHead() throws {
        try writeDirectory(config: ["model_type": "qwen2", "tie_word_embeddings": false],
                           tensors: tinyTensors(bias: true, lmHead: true))
        let d = try HFDirectory(path: dir.path)
        XCTAssertTrue(d.modelConfig.attentionBias)
        XCTAssertFalse(d.modelConfig.tiedEmbeddings)

        try writeDirectory(config: ["model_type": "qwen2", "tie_word_embeddings": false], tensors: tinyTensors(lmHead: true))
        assertHFError({ _ = try HFDirectory(path: self.dir.path) },
                              mentions: ["model.layers.0.self_attn.q_proj.bias", "config.json"]) {
            if case .missingTensor = $0 { return true } else { return false }
        }
        try writeDirectory(config: ["tie_word_embeddings": false], tensors: tinyTensors())
        assertHFError({ _ = try HFDirectory(path: self.dir.path) }, mentions: ["lm_head.weight"]) {
            if case .missingTensor = $0 { return true } else { return false }
        }
    }

    func testMissingTokenizerJSON() throws {
        try writeDirectory(tensors: tinyTensors(), tokenizer: false)
        assertHFError({ _ = try HFDirectory(path: self.dir.path) }, mentions: [dir.file("tokenizer.json")]) {
            if case .cannotOpen = $0 { return true } else { return false }
        }
    }

    func testMissingConfigJSONAndDirectory() throws {
        try dir.write("model.safetensors", safetensorsBytes(tinyTensors()))
        try dir.write("tokenizer.json", "{}")
        assertHFError({ _ = try HFDirectory(path: self.dir.path) }, mentions: [dir.file("config.json")]) {
            if case .cannotOpen = $0 { return true } else { return false }
        }
        assertHFError({ _ = try HFDirectory(path: self.dir.file("nope")) }, mentions: [dir.file("nope")]) {
            if case .cannotOpen = $0 { return true } else { return false }
        }
    }

    func testUnknownModelTypeInDirectory() throws {
        try writeDirectory(config: ["model_type": "phi3"], tensors: tinyTensors())
        assertHFError({ _ = try HFDirectory(path: self.dir.path) },
                              mentions: [dir.file("config.json"), "'phi3'", "llama, mistral, qwen2"]) {
            if case .unsupported = $0 { return true } else { return false }
        }
    }

    func testTensorImpliedByConfigMustExistWithItsShape() throws {
        try writeDirectory(tensors: tinyTensors(drop: "model.layers.1.mlp.down_proj.weight"))
        assertHFError({ _ = try HFDirectory(path: self.dir.path) },
                              mentions: ["model.layers.1.mlp.down_proj.weight", dir.file("config.json")]) {
            if case .missingTensor = $0 { return true } else { return false }
        }
        try writeDirectory(tensors: tinyTensors(reshape: ("model.layers.0.self_attn.k_proj.weight", [8, 8])))
        assertHFError({ _ = try HFDirectory(path: self.dir.path) },
                              mentions: [dir.file("model.safetensors"), "k_proj", "[8, 8]", "[4, 8]"]) {
            if case .shapeMismatch = $0 { return true } else { return false }
        }
        // A config claiming three layers for a two-layer checkpoint.
        try writeDirectory(config: ["num_hidden_layers": 3], tensors: tinyTensors())
        assertHFError({ _ = try HFDirectory(path: self.dir.path) }, mentions: ["model.layers.2."]) {
            if case .missingTensor = $0 { return true } else { return false }
        }
    }
}
