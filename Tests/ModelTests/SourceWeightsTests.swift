// Plans with the GGUF's own blocks (`--weights source`): the tensors are the checkpoint's bytes, bit for bit; the
// plan is about the GGUF's size. Prefill (2 rows or more) dequantises tiles and multiplies float
// activations: its logits match the interpreter's to the usual tolerance. Decode quantises the activation to 8 bits
// (as llama.cpp does) and uses integer dot products: its logits stay close, measured as KL and top-1 agreement.
import CKernels
import Foundation
import PareCheckpoint
import PareFrontend
import PareInterpreter
import PareIR
import PareLowering
import ParePasses
import ParePlan
import PareRuntime
import XCTest

final class SourceWeightsTests: XCTestCase {
    /// Lowers `module` with `--weights source` and writes the plan; returns the lowered plan's fallbacks.
    @discardableResult
    func compileSource(_ module: Module, of model: LoadedModel, to path: String) throws -> [(parameter: String, reason: String)] {
        let (lowered, _) = try lower(module, store: model.store)
        let blocks = try XCTUnwrap(GGUFBlocks(reader: model.reader))
        let plan = try lowerToPlan(lowered, store: model.store,
                                   options: LoweringOptions(pipeline: "none", lowering: loweringPipeline, pareVersion: "test", weights: .source),
                                   raw: blocks)
        _ = try PlanDirectory.write(plan.plan, to: path, tensorData: plan.data)
        model.store.dropViews()
        return plan.f32Fallbacks
    }

    /// Against the interpreter over a code prompt: the prefill logits' largest difference relative to their scale,
    /// and KL(interpreter ‖ plan) with top-1 agreement when the plan decodes the same tokens one at a time.
    func fidelity(_ module: Module, _ model: LoadedModel, plan path: String) throws -> (prefill: Double, decode: KLStatistics) {
        let (_, runtime) = try openPlan(path)
        let ids = model.tokenizer.encode(RuntimeParityTests.prompt + String(repeating: RuntimeParityTests.prompt, count: 2))
        let expected = try Interpreter(module: module, store: model.store).forward(ids)
        let prefill = try runtime.makeSession(maxContext: ids.count).forward(ids, allLogits: true)
        let session = try runtime.makeSession(maxContext: ids.count)
        var acc = KLAccumulator(keep: nil)
        let v = module.vocabulary.size
        for (r, id) in ids.enumerated() {
            let step = try session.forward([id])
            acc.add(before: expected.data[(r * v)..<((r + 1) * v)], after: step[...])
        }
        model.store.dropViews()
        return (relativeDifference(expected.data, prefill), acc.statistics())
    }

    func checkModel(_ model: LoadedModel, name: String, file: String) throws {
        let dir = try temporaryFolder("source-\(name)")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fallbacks = try compileSource(model.module, of: model, to: dir + "/plan.pare")
        XCTAssertTrue(fallbacks.isEmpty, "\(name): a dense model keeps every row: \(fallbacks)")

        // Every matrix tensor is the checkpoint's bytes: find each block tensor's rows in the GGUF tensor it came from.
        let loaded = try PlanDirectory.read(dir + "/plan.pare")
        let gguf = try XCTUnwrap(model.reader as? GGUFFile)
        let blockTensors = loaded.plan.tensors.indices.filter { loaded.plan.tensors[$0].dtype != .f32 }
        XCTAssertFalse(blockTensors.isEmpty)
        var checked = 0
        for i in blockTensors {
            let t = loaded.plan.tensors[i]
            // Single-part tensors named after an unstacked checkpoint tensor (e.g. blk.0.ffn_down.weight).
            guard let source = model.module.parameter(t.name)?.source, source.shape == t.shape,
                  model.module.parameter(t.name)?.views.isEmpty == true else { continue }
            XCTAssertEqual(Array(loaded.tensorBytes(i)), Array(try gguf.rawBytes(source.tensor)), "\(t.name) is not the GGUF's bytes")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 10, "\(name): too few tensors compared")
        let ggufBytes = try FileManager.default.attributesOfItem(atPath: file)[.size] as! Int
        XCTAssertLessThanOrEqual(Double(loaded.plan.weights.length), 1.05 * Double(ggufBytes), "\(name): plan weights against the GGUF")

        let (prefill, s) = try fidelity(model.module, model, plan: dir + "/plan.pare")
        print(String(format: "source blocks %@: weights %d bytes (GGUF %d); prefill logits within %.2e of scale; decode KL mean %.2e p99 %.2e max %.2e, top-1 %.4f over %d positions, kernels level %d",
                     name, loaded.plan.weights.length, ggufBytes, prefill, s.mean, s.p99, s.max, s.top1Agreement, s.positions, pk_level()))
        XCTAssertLessThan(prefill, 1e-3, "\(name): prefill (float activations) must match the interpreter")
        XCTAssertLessThan(s.mean, 0.01, "\(name): 8-bit activations moved the distribution too far")
        XCTAssertGreaterThanOrEqual(s.top1Agreement, 0.95, name)
    }

    func testQwenSourcePlanPassesTheTransformersReferences() throws {
        // As the f32 plan does (RuntimeParityTests), with exact products: float activations in decode too. (With
        // 8-bit activations in decode, the default, the prompt logits still pass; a greedy continuation can part at
        // a near tie: "The capital of France is" does, while the other three stay identical.)
        let model = try RealModels.qwen()
        let dir = try temporaryFolder("source-ref")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try compileSource(model.module, of: model, to: dir + "/plan.pare")
        try checkReferences(plan: dir + "/plan.pare", reference: Paths.qwenReference, model: model,
                                                 label: "Qwen2.5-Coder source-blocks plan, exact products", exact: true)
    }

    func testSmolLM2SourcePlanIsTheGGUFsBlocksAndAgreesWithTheInterpreter() throws {
        try checkModel(try RealModels.smol(), name: "SmolLM2", file: Paths.smolGGUF)
    }

    func testQwenSourcePlanIsTheGGUFsBlocksAndAgreesWithTheInterpreter() throws {
        try checkModel(try RealModels.qwen(), name: "Qwen2.5-Coder", file: Paths.qwenGGUF)
    }

    func testPrunedQwenSourcePlanKeepsBlocksAndFallsBackWhereColumnsAreCut() throws {
        let model = try RealModels.qwen()
        // Rows survive a layer removal; ffn-prune cuts the down projections' columns: those become f32.
        let pruned = try PassManager(passes: try Pipeline(parsing: "layer-prune{remove=5},ffn-prune{drop=512,strategy=bottom}").resolve())
            .run(model.module, context: PassContext(store: model.store, calibration: nil)).module
        let dir = try temporaryFolder("source-pruned")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fallbacks = try compileSource(pruned, of: model, to: dir + "/plan.pare")
        XCTAssertEqual(fallbacks.count, 23, "one down projection per remaining block: \(fallbacks.map(\.parameter))")
        XCTAssertTrue(fallbacks.allSatisfy { $0.parameter.hasSuffix("ffn_down.weight") && $0.reason.contains("column") })
        let (prefill, s) = try fidelity(pruned, model, plan: dir + "/plan.pare")
        print(String(format: "source blocks, pruned Qwen: prefill within %.2e, decode KL mean %.2e, top-1 %.4f", prefill, s.mean, s.top1Agreement))
        XCTAssertLessThan(prefill, 1e-3)
        XCTAssertLessThan(s.mean, 0.01)

        // What `--weights source` appends re-encodes exactly those 23 as q8_0: no float32 matrix is left.
        let cut = try PassManager(passes: try Pipeline(parsing: try XCTUnwrap(WeightFormat.source.quantizePass)).resolve())
            .run(pruned, context: PassContext(store: model.store, calibration: nil)).module
        XCTAssertTrue(try compileSource(cut, of: model, to: dir + "/cut.pare").isEmpty)
        let loaded = try PlanDirectory.read(dir + "/cut.pare")
        XCTAssertEqual(loaded.plan.tensors.filter { $0.dtype == .q8_0 && $0.name.hasSuffix("ffn_down.weight") }.count, 23)
        XCTAssertTrue(loaded.plan.tensors.allSatisfy { $0.shape.count == 1 || $0.dtype != .f32 }, "a float32 matrix is left")
        let (prefillCut, sCut) = try fidelity(cut, model, plan: dir + "/cut.pare")
        XCTAssertLessThan(prefillCut, 1e-3)
        XCTAssertLessThan(sCut.mean, 0.01)
    }

    func testQuantizedMatricesAreEncodedAsTheInterpreterSeesThem() throws {
        // The quantize pass's views: blocks to q4_0, the tied table q8_0 as embedding and q4_1 as head (a copy).
        let model = try RealModels.smol()
        let q = try PassManager(passes: try Pipeline(parsing: "quantize{blocks=q4_0,embedding=q8_0,head=q4_1,requant-source=true}").resolve())
            .run(model.module, context: PassContext(store: model.store, calibration: nil)).module
        XCTAssertNotNil(q.parameter("token_embd.weight.head"), "the head reads a copy of the tied table")
        for weights in [WeightFormat.f32, .source] {  // the views are honoured whatever --weights says
            let dir = try temporaryFolder("quantize-\(weights)")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let (lowered, _) = try lower(q, store: model.store)
            let plan = try lowerToPlan(lowered, store: model.store,
                                       options: LoweringOptions(pipeline: "quantize", lowering: loweringPipeline, pareVersion: "test", weights: weights),
                                       raw: GGUFBlocks(reader: model.reader))
            XCTAssertTrue(plan.f32Fallbacks.isEmpty, "\(plan.f32Fallbacks)")
            _ = try PlanDirectory.write(plan.plan, to: dir + "/plan.pare", tensorData: plan.data)
            let loaded = try PlanDirectory.read(dir + "/plan.pare")
            let matrices = loaded.plan.tensors.filter { $0.shape.count == 2 }
            XCTAssertEqual(Set(matrices.map(\.dtype)), [.q4_0, .q8_0, .q4_1], "\(weights)")
            XCTAssertEqual(matrices.filter { $0.dtype == .q8_0 }.map(\.name), ["token_embd.weight"])
            XCTAssertEqual(matrices.filter { $0.dtype == .q4_1 }.map(\.name), ["token_embd.weight.head"])

            // A tensor's bytes are its chain before quantize(...) encoded: here the down projection of block 0.
            let down = try XCTUnwrap(model.module.parameter("blk.0.ffn_down.weight"))
            let i = try XCTUnwrap(loaded.plan.tensors.firstIndex { $0.name == down.name })
            XCTAssertEqual(Array(loaded.tensorBytes(i)),
                           try encodeRows(try model.store.tensor(for: down), format: "q4_0", parameter: down.name))

            // Prefill (float activations on dequantised tiles) equals the interpreter reading the views.
            let (prefill, s) = try fidelity(q, model, plan: dir + "/plan.pare")
            print(String(format: "quantize views, SmolLM2, --weights %@: weights %d bytes, prefill within %.2e, decode KL %.2e top-1 %.4f",
                         weights.rawValue, loaded.plan.weights.length, prefill, s.mean, s.top1Agreement))
            XCTAssertLessThan(prefill, 1e-3)
            XCTAssertLessThan(s.mean, 0.02)
        }
    }
}
