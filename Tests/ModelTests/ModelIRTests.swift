// The lifted IR of both real models: it verifies, round-trips through text, has the expected structure, survives
// `dce` unchanged, loses exactly a dead FFN under `dce`, and its unpermute_rope view matches llama.cpp's row order.
import Foundation
import PareCheckpoint
import PareFrontend
import PareIR
import PareInterpreter
import ParePasses
import XCTest

/// The two real models, lifted once per test process (lifting reads metadata and the tokenizer, never weights).
enum RealModels {
    private static var cache: [String: LoadedModel] = [:]

    static func load(_ path: String) throws -> LoadedModel {
        let path = try Paths.require(path)
        if let m = cache[path] { return m }
        let m = try loadModel(path)
        cache[path] = m
        return m
    }
    static func smol() throws -> LoadedModel { try load(Paths.smolGGUF) }
    static func qwen() throws -> LoadedModel { try load(Paths.qwenGGUF) }
}

final class ModelIRTests: XCTestCase {
    /// Both models with a name for messages.
    func both() throws -> [(String, Module)] {
        [("SmolLM2", try RealModels.smol().module), ("Qwen2.5-Coder", try RealModels.qwen().module)]
    }

    func testLiftedModulesVerifyWithoutDiagnostics() throws {
        for (name, m) in try both() {
            let d = verify(m)
            XCTAssertTrue(d.isEmpty, "\(name): \(d.map(\.description).joined(separator: "\n"))")
        }
    }

    func testTextRoundTrip() throws {
        for (name, m) in try both() {
            XCTAssertEqual(m, m.canonicalized(), "\(name): lifting should number values as the parser does")
            let text = printModule(m)
            let parsed = try parseModule(text, file: "\(name).pir")
            XCTAssertEqual(parsed, m, "\(name): parse(print(m)) != m")
            XCTAssertEqual(printModule(parsed), text, "\(name): print(parse(print(m))) != print(m)")
            XCTAssertTrue(verify(parsed).isEmpty, "\(name): the parsed module does not verify")
            // Each op remembers where it was parsed from (for located diagnostics).
            XCTAssertTrue(parsed.function.ops.allSatisfy { $0.location?.file == "\(name).pir" })
        }
    }

    /// The ops of one block, in order.
    func ops(_ m: Module, block b: Int) -> [Op] { m.function.ops.filter { $0.block == b } }

    func testSmolLM2Structure() throws {
        let m = try RealModels.smol().module
        XCTAssertEqual(m[meta: MetaKey.architecture], .string("llama"))
        XCTAssertEqual(m[meta: "tied_embeddings"], .bool(true))
        XCTAssertEqual(m.blocks.count, 30)
        XCTAssertEqual(Set(m.blocks), Set((0..<30).map { BlockDims(index: $0, hidden: 576, heads: 9, kvHeads: 3, headDim: 64, ffn: 1536) }))
        XCTAssertEqual(m.vocabulary.size, 49152)
        XCTAssertEqual(m.function.ops.count, 1 + 30 * 16 + 2)
        XCTAssertEqual(m.parameters.count, 1 + 30 * 9 + 1, "embedding, 9 per block, final norm; no LM head (tied)")
        XCTAssertNil(m.parameter("output.weight"))
        XCTAssertFalse(m.parameters.contains { $0.name.hasSuffix(".bias") })

        let last = try XCTUnwrap(m.function.ops.last)
        XCTAssertEqual(last.result, m.function.result)
        XCTAssertEqual(last.kind, .linear)
        XCTAssertEqual(last.paramOperands, ["token_embd.weight"], "the tied LM head reads the embedding table")
        XCTAssertEqual(m.function.ops.first?.paramOperands, ["token_embd.weight"])

        for b in 0..<30 {
            XCTAssertEqual(m.parameter("blk.\(b).attn_q.weight")?.views, [.unpermuteRoPE(heads: 9)])
            XCTAssertEqual(m.parameter("blk.\(b).attn_k.weight")?.views, [.unpermuteRoPE(heads: 3)])
            XCTAssertEqual(m.parameter("blk.\(b).attn_v.weight")?.views, [])
            XCTAssertEqual(m.parameter("blk.\(b).ffn_down.weight")?.shape, [576, 1536])
            let blockOps = ops(m, block: b)
            XCTAssertEqual(blockOps.map(\.kind), [.rmsNorm, .linear, .linear, .linear, .rope, .rope, .attention, .linear, .add,
                                                  .rmsNorm, .linear, .linear, .silu, .mul, .linear, .add])
            let attention = blockOps[6]
            XCTAssertEqual(attention.int("kv_slot"), b)
            XCTAssertEqual(attention.int("heads"), 9)
            XCTAssertEqual(attention.int("kv_heads"), 3)
            XCTAssertEqual(attention.int("head_dim"), 64)
            XCTAssertEqual(blockOps[1...3].map { $0.operands.count }, [2, 2, 2], "llama has no q/k/v biases")
        }
    }

    func testQwenStructure() throws {
        let m = try RealModels.qwen().module
        XCTAssertEqual(m[meta: MetaKey.architecture], .string("qwen2"))
        XCTAssertEqual(m[meta: "tied_embeddings"], .bool(false))
        XCTAssertEqual(m.blocks.count, 24)
        XCTAssertEqual(Set(m.blocks), Set((0..<24).map { BlockDims(index: $0, hidden: 896, heads: 14, kvHeads: 2, headDim: 64, ffn: 4864) }))
        XCTAssertEqual(m.function.ops.count, 1 + 24 * 16 + 2)
        XCTAssertEqual(m.parameters.count, 1 + 24 * 12 + 2, "embedding, 12 per block (3 biases), final norm, LM head")
        XCTAssertTrue(m.parameters.allSatisfy { $0.views.isEmpty }, "qwen2 GGUF rows are not permuted: no views")

        let last = try XCTUnwrap(m.function.ops.last)
        XCTAssertEqual(last.result, m.function.result)
        XCTAssertEqual(last.paramOperands, ["output.weight"], "the untied LM head reads @output.weight")
        XCTAssertEqual(m.parameter("output.weight")?.shape, [m.vocabulary.size, 896])

        for b in 0..<24 {
            let blockOps = ops(m, block: b)
            XCTAssertEqual(blockOps.count, 16)
            let (q, k, v) = (blockOps[1], blockOps[2], blockOps[3])
            XCTAssertEqual(q.paramOperands, ["blk.\(b).attn_q.weight", "blk.\(b).attn_q.bias"])
            XCTAssertEqual(k.paramOperands, ["blk.\(b).attn_k.weight", "blk.\(b).attn_k.bias"])
            XCTAssertEqual(v.paramOperands, ["blk.\(b).attn_v.weight", "blk.\(b).attn_v.bias"])
            XCTAssertEqual(m.parameter("blk.\(b).attn_q.bias")?.shape, [896])
            XCTAssertEqual(m.parameter("blk.\(b).attn_k.bias")?.shape, [128])
            XCTAssertEqual(blockOps[6].int("kv_slot"), b)
            XCTAssertEqual(blockOps[6].int("heads"), 14)
            XCTAssertEqual(blockOps[6].int("kv_heads"), 2)
        }
    }

    // MARK: dce

    func testDCELeavesRealModulesUnchanged() throws {
        for (name, m) in try both() {
            let r = try runPass(DeadCodeElimination(), on: m)
            XCTAssertFalse(r.changed, "\(name): dce changed a module with nothing dead")
            XCTAssertEqual(r.module, m, name)
            XCTAssertEqual(printModule(r.module), printModule(m), name)
            XCTAssertEqual(r.statistics["ops erased"], .int(0), name)
            XCTAssertEqual(r.statistics["parameters erased"], .int(0), name)
        }
    }

    func testDCEErasesExactlyADeadFFN() throws {
        for (name, m) in try both() {
            let last = m.blocks.count - 1
            let blockOps = ops(m, block: last)
            // The last block's FFN: rms_norm, gate, up, silu, mul, down, and the residual add that ends the block.
            let ffn = Array(blockOps[9...])
            XCTAssertEqual(ffn.map(\.kind), [.rmsNorm, .linear, .linear, .silu, .mul, .linear, .add], name)
            let finalAdd = try XCTUnwrap(ffn.last)
            let attentionResidual = finalAdd.valueOperands[0]
            XCTAssertEqual(finalAdd.valueOperands[1], ffn[5].result, "\(name): the block's add reads the down projection")

            // Bypass the FFN: whoever read the block's output now reads the residual stream after attention.
            var r = Rewriter(m)
            XCTAssertEqual(r.replaceAllUses(of: finalAdd.result, with: attentionResidual), 1, "\(name): only the final norm read it")
            let bypassed = r.module
            XCTAssertTrue(verify(bypassed).filter { $0.severity == .error }.isEmpty, "\(name): the bypassed module is valid")

            let deadOps = Set(ffn.map(\.result))
            let deadParams = Set(ffn.flatMap(\.paramOperands))
            XCTAssertEqual(deadParams, Set(["ffn_norm", "ffn_gate", "ffn_up", "ffn_down"].map { "blk.\(last).\($0).weight" }), name)

            let result = try runPass(DeadCodeElimination(), on: bypassed)
            XCTAssertTrue(result.changed, name)
            XCTAssertEqual(result.statistics["ops erased"], .int(7), name)
            XCTAssertEqual(result.statistics["parameters erased"], .int(4), name)
            XCTAssertEqual(result.statistics["kv slots renumbered"], .int(0), name)
            XCTAssertEqual(result.module.function.ops, bypassed.function.ops.filter { !deadOps.contains($0.result) },
                           "\(name): dce must erase exactly the 7 FFN ops and keep the rest in order")
            XCTAssertEqual(result.module.parameters, bypassed.parameters.filter { !deadParams.contains($0.name) },
                           "\(name): dce must erase exactly the FFN's parameters")
            XCTAssertEqual(result.module.function.result, m.function.result)
            let d = verify(result.module)
            XCTAssertTrue(d.isEmpty, "\(name): \(d.map(\.description).joined(separator: "\n"))")
            // Running it again finds nothing more.
            XCTAssertFalse(try runPass(DeadCodeElimination(), on: result.module).changed, name)
        }
    }

    // MARK: unpermute_rope, numerically

    /// Rows of `hf` (the view's output) that differ from the GGUF rows llama.cpp's converter says they came from:
    /// HF row h*d + j*(d/2) + i is GGUF row h*d + 2*i + j (d = rows / heads, i < d/2, j in {0, 1}).
    func unpermuteMismatches(hf: [Float], gguf: [Float], rows: Int, cols: Int, heads: Int) -> Int {
        let d = rows / heads, half = d / 2
        var bad = 0
        for h in 0..<heads {
            for i in 0..<half {
                for j in 0..<2 {
                    let dst = (h * d + j * half + i) * cols, src = (h * d + 2 * i + j) * cols
                    if hf[dst..<(dst + cols)] != gguf[src..<(src + cols)] { bad += 1 }
                }
            }
        }
        return bad
    }

    func testUnpermuteRoPEMatchesLlamaCppRowOrder() throws {
        let loaded = try RealModels.smol()
        let gguf = try GGUFFile(path: Paths.smolGGUF)
        let names = ["blk.0.attn_q.weight": 9, "blk.0.attn_k.weight": 3, "blk.29.attn_k.weight": 3]
        var sub = loaded.module
        sub.parameters = sub.parameters.filter { names[$0.name] != nil }
        let w = try materializeWeights(sub, from: gguf)
        for (name, heads) in names.sorted(by: { $0.key < $1.key }) {
            let t = try XCTUnwrap(w[name])
            let raw = try gguf.readFloat32(name)
            let (rows, cols) = (t.shape[0], t.shape[1])
            XCTAssertEqual(t.shape, try XCTUnwrap(gguf.info(name)).shape)
            XCTAssertNotEqual(t.data, raw, "\(name): the view must move rows")
            XCTAssertEqual(unpermuteMismatches(hf: t.data, gguf: raw, rows: rows, cols: cols, heads: heads), 0, name)
            // The check itself: the wrong head count, or no unpermutation at all, must be caught.
            XCTAssertGreaterThan(unpermuteMismatches(hf: t.data, gguf: raw, rows: rows, cols: cols, heads: heads == 9 ? 3 : 1), 0)
            XCTAssertGreaterThan(unpermuteMismatches(hf: raw, gguf: raw, rows: rows, cols: cols, heads: heads), 0)
        }
    }

    /// The same rows against an independent implementation: scripts/gguf-to-hf.py (gguf-py dequantisation, numpy
    /// reshape) wrote the Hugging Face directory that scripts/setup.sh puts in the cache.
    func testUnpermuteRoPEMatchesConvertedHFDirectory() throws {
        let dir = Paths.cache + "/hf/smollm2-135m-instruct"
        guard FileManager.default.fileExists(atPath: dir + "/config.json") else {
            XCTFail("\(dir) is missing: run scripts/setup.sh (it converts the SmolLM2 GGUF with scripts/gguf-to-hf.py)")
            return
        }
        let hf = try SafetensorsCheckpoint(directory: dir)
        let loaded = try RealModels.smol()
        var sub = loaded.module
        let pairs = ["blk.0.attn_q.weight": "model.layers.0.self_attn.q_proj.weight",
                     "blk.0.attn_k.weight": "model.layers.0.self_attn.k_proj.weight",
                     "blk.0.attn_v.weight": "model.layers.0.self_attn.v_proj.weight"]
        sub.parameters = sub.parameters.filter { pairs[$0.name] != nil }
        let w = try materializeWeights(sub, from: loaded.reader)
        for (ours, theirs) in pairs.sorted(by: { $0.key < $1.key }) {
            let a = try XCTUnwrap(w[ours]).data
            let b = try hf.readFloat32(theirs)
            XCTAssertEqual(a.count, b.count, ours)
            let maxDiff = zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(maxDiff, 1e-6, "\(ours) vs \(theirs): max |diff| \(maxDiff)")
        }
    }
}
