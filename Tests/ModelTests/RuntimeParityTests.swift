// Acceptance for the runtime: on the same module, the compiled plan and the interpreter agree (top-1 at every
// position, logits within 1e-3 of their scale, identical greedy text for 64 tokens); a dense plan passes the
// transformers references as the interpreter does; a pruned plan agrees with the pruned module it came from;
// compiling twice gives the same bytes, and the C reader reads what Swift wrote.
import Foundation
import PareFrontend
import PareIR
import PareInterpreter
import PareLowering
import ParePasses
import ParePlan
import PareRuntime
import XCTest

/// A temporary folder removed at the end of the test.
func temporaryFolder(_ name: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pare-\(name)-\(getpid())").path
    try? FileManager.default.removeItem(atPath: dir)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// Lowers `module` (pruned or not) and writes its plan to `path`; returns the lowered module.
@discardableResult
func compilePlan(_ module: Module, of model: LoadedModel, to path: String, pipeline: String = "none", maxRows: Int = 128) throws -> Module {
    let (lowered, _) = try lower(module, store: model.store)
    let plan = try lowerToPlan(lowered, store: model.store,
                               options: LoweringOptions(maxRows: maxRows, pipeline: pipeline, lowering: loweringPipeline,
                                                        pareVersion: "test"))
    _ = try PlanDirectory.write(plan.plan, to: path, tensorData: plan.data)
    model.store.dropViews()
    return lowered
}

/// A plan read back and ready to run.
func openPlan(_ path: String, exact: Bool = false) throws -> (LoadedPlan, PlanRuntime) {
    let loaded = try PlanDirectory.read(path)
    return (loaded, try PlanRuntime(plan: loaded.plan, weights: loaded.weights, keepAlive: loaded, exactProducts: exact))
}

final class RuntimeParityTests: XCTestCase {
    static let prompt = """
        def binary_search(items: list[int], target: int) -> int:
            \"\"\"Return the index of target in the sorted list items, or -1.\"\"\"
            lo, hi = 0, len(items) - 1
            while lo <= hi:
        """

    /// Runtime vs interpreter on one module and prompt: every position's top-1, logits within 1e-3 of their scale
    /// (over all positions, also across prefill chunks), and 64 greedy tokens.
    func checkAgainstInterpreter(_ module: Module, _ model: LoadedModel, plan path: String, ids: [Int], label: String) throws {
        let (loaded, runtime) = try openPlan(path)
        XCTAssertEqual(loaded.plan.model.vocabSize, module.vocabulary.size, label)
        let interp = try Interpreter(module: module, store: model.store)
        let expected = try interp.forward(ids)
        let got = try runtime.makeSession(maxContext: ids.count).forward(ids, allLogits: true)
        XCTAssertEqual(got.count, expected.data.count, label)
        let rel = relativeDifference(expected.data, got)
        let vocab = module.vocabulary.size
        let top1 = argmaxRows(got, width: vocab)
        XCTAssertEqual(top1, argmaxRows(expected), "\(label): top-1 differs")
        XCTAssertLessThan(rel, 1e-3, "\(label): logits differ by \(rel) of their scale")

        let stop = Set(["eos", "eot"].compactMap { module.vocabulary.special($0) })
        let want = try interp.generateGreedy(prompt: ids, maxTokens: 64, stop: stop)
        let have = try PareRuntime.generate(try runtime.makeSession(maxContext: ids.count + 65), prompt: ids, maxTokens: 64,
                                            sampling: .greedy, stop: stop) { _ in }
        XCTAssertEqual(have, want, "\(label): greedy continuations differ")
        print(String(format: "runtime vs interpreter %@: %d positions, max logit diff %.2e of scale, top-1 equal, greedy %d tokens %@",
                     label, ids.count, rel, have.count, have == want ? "identical" : "DIFFER"))
        model.store.dropViews()
    }

    func testDenseSmolLM2PlanMatchesInterpreterAndTransformers() throws {
        let model = try RealModels.smol()
        let dir = try temporaryFolder("smol-dense")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // maxRows 16: a 40-token prompt runs in three chunks.
        try compilePlan(model.module, of: model, to: dir + "/smol.pare", maxRows: 16)
        let ids = model.tokenizer.encode(Self.prompt)
        XCTAssertGreaterThan(ids.count, 32)
        try checkAgainstInterpreter(model.module, model, plan: dir + "/smol.pare", ids: ids, label: "SmolLM2 dense")
        try checkReferences(plan: dir + "/smol.pare", reference: Paths.smolReference, model: model, label: "SmolLM2 dense plan")
    }

    func testDenseQwenPlanMatchesTransformers() throws {
        let model = try RealModels.qwen()
        let dir = try temporaryFolder("qwen-dense")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try compilePlan(model.module, of: model, to: dir + "/qwen.pare")
        try checkReferences(plan: dir + "/qwen.pare", reference: Paths.qwenReference, model: model, label: "Qwen2.5-Coder dense plan")
    }

    func testPrunedQwenPlanMatchesThePrunedModule() throws {
        let model = try RealModels.qwen()
        // Structural pruning (no calibration): two blocks out, FFNs cut by position, so blocks differ from the config.
        let pruned = try PassManager(passes: try Pipeline(parsing: "layer-prune{remove=5;17},ffn-prune{drop=512,strategy=bottom}").resolve())
            .run(model.module, context: PassContext(store: model.store, calibration: nil)).module
        let dir = try temporaryFolder("qwen-pruned")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try compilePlan(pruned, of: model, to: dir + "/p.pare", pipeline: "layer-prune{remove=5;17},ffn-prune{drop=512,strategy=bottom}")
        let (loaded, _) = try openPlan(dir + "/p.pare")
        XCTAssertEqual(loaded.plan.kvLayers.map(\.block), (0..<24).filter { $0 != 5 && $0 != 17 })
        XCTAssertEqual(Set(loaded.plan.steps.filter { $0.kernel == .swiglu }.map(\.ffn)), [4864 - 512])
        try checkAgainstInterpreter(pruned, model, plan: dir + "/p.pare", ids: model.tokenizer.encode(Self.prompt), label: "Qwen pruned")
    }

    /// A vocabulary-pruned plan carries the pruned tokenizer, its id map and remapped specials: it tokenizes as the
    /// pruned module does, and runs as the pruned module runs.
    func testVocabularyPrunedPlanCarriesThePrunedTokenizer() throws {
        let pruned = try VocabPruneFixture.pruned(Paths.smolGGUF)
        let model = pruned.original
        let dir = try temporaryFolder("smol-vocab")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try compilePlan(pruned.module, of: model, to: dir + "/v.pare", pipeline: "vocab-prune")
        let (loaded, _) = try openPlan(dir + "/v.pare")
        let t = loaded.plan.tokenizer
        XCTAssertEqual(t.tokens.count, pruned.module.vocabulary.size)
        XCTAssertLessThan(t.tokens.count, model.module.vocabulary.size)
        XCTAssertEqual(t.idMap, pruned.idMap)
        XCTAssertEqual(t.originalSize, model.module.vocabulary.size)
        XCTAssertEqual(t.specials.map(\.id), pruned.module.vocabulary.specials.map(\.id))
        let planTokenizer = try makeTokenizer(t)
        let ids = planTokenizer.encode(Self.prompt)
        XCTAssertEqual(ids, pruned.tokenizer.encode(Self.prompt))
        XCTAssertEqual(planTokenizer.decode(ids), Self.prompt)
        try checkAgainstInterpreter(pruned.module, model, plan: dir + "/v.pare", ids: ids, label: "SmolLM2 vocab-pruned")
    }

    func testCompilingTwiceGivesTheSameBytesAndTheCReaderAgrees() throws {
        let model = try RealModels.smol()
        let dir = try temporaryFolder("smol-twice")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pruned = try PassManager(passes: try Pipeline(parsing: "layer-prune{remove=7},ffn-prune{keep=1024,strategy=top}").resolve())
            .run(model.module, context: PassContext(store: model.store, calibration: nil)).module
        for name in ["a", "b"] { try compilePlan(pruned, of: model, to: dir + "/\(name).pare") }
        for file in [PlanDirectory.planFile, PlanDirectory.weightsFile] {
            let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/a.pare/" + file))
            let b = try Data(contentsOf: URL(fileURLWithPath: dir + "/b.pare/" + file))
            XCTAssertEqual(a.count, b.count, file)
            XCTAssertTrue(a == b, "\(file) differs between two compiles of the same module")
        }
        // The C reader (libprotobuf-c) prints the same listing as Swift for the real plan.
        let loaded = try PlanDirectory.read(dir + "/a.pare")
        let run = try PareCLI.runTool("pare-plan-dump", [dir + "/a.pare"])
        XCTAssertEqual(run.status, 0, run.summary)
        XCTAssertEqual(run.out, planListing(loaded.plan))
    }
}

extension XCTestCase {
    /// The transformers references through the runtime, judged by the same checker as the interpreter's parity.
    func checkReferences(plan path: String, reference dir: String, model: LoadedModel, label: String, exact: Bool = false) throws {
        let ref = try ReferenceFile.load(try Paths.require(dir))
        let (loaded, runtime) = try openPlan(path, exact: exact)
        let tokenizer = try makeTokenizer(loaded.plan.tokenizer)
        let vocab = loaded.plan.model.vocabSize
        let stop = Set(loaded.plan.tokenizer.specials.filter { ["eos", "eot"].contains($0.role) }.map(\.id))
        var failures = 0
        print("parity \(label):")
        for (i, c) in ref.cases.enumerated() {
            let ids = tokenizer.encode(c.prompt)
            let logits = try runtime.makeSession(maxContext: ids.count).forward(ids, allLogits: true)
            let rows = (0..<ids.count).map { Array(logits[($0 * vocab)..<(($0 + 1) * vocab)]) }
            let greedy = try PareRuntime.generate(try runtime.makeSession(maxContext: ids.count + c.greedy_ids.count + 1), prompt: ids,
                                                  maxTokens: max(c.greedy_ids.count, 1), sampling: .greedy, stop: stop) { _ in }
            let r = compare("  case \(i) \(c.prompt.prefix(24).debugDescription)", c,
                            Observed(ids: ids, logits: rows, greedy: greedy, greedyText: tokenizer.decode(greedy)))
            print(r.line)
            if !r.ok { failures += 1 }
        }
        XCTAssertEqual(failures, 0, "\(label): \(failures) of \(ref.cases.count) cases NOT OK (see the report above)")
    }
}
