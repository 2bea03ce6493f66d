// A `.pir` written by `pare opt` compiles: for each pruning pass, `pare compile X.pir` (no --passes, so the module is
// lowered as it is, not pruned again) writes a plan whose runtime logits match the interpreter's on the `.pir` (every
// position, within 1e-3 of their scale) with the same top-1 ids; a vocabulary-pruned plan keeps the source's size as
// its original vocabulary size. Pruning a pruned `.pir` again, when asked, composes the id map in source ids.
import Foundation
import PareFrontend
import PareIR
import PareInterpreter
import ParePlan
import PareRuntime
import XCTest

final class PrunedPIRPlanTests: XCTestCase {
    let calibration = ["--calibration-samples", "2", "--calibration-length", "24"]
    static let prompt = RuntimeParityTests.prompt

    func json(_ r: PareRun) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any], r.summary)
    }

    /// `pare opt SmolLM2 --passes pipeline -o NAME.pir`; returns the .pir's path.
    func opt(_ pipeline: String, _ name: String, in dir: TempDir) throws -> String {
        let pir = dir.file(name + ".pir")
        let r = try PareCLI.run(["opt", try Paths.require(Paths.smolGGUF), "--passes", pipeline, "-o", pir] + calibration)
        XCTAssertEqual(r.status, 0, r.summary)
        return pir
    }

    /// `pare compile pir -o NAME.pare [extra...] --json`; returns the plan's path and the JSON report. No KL budget:
    /// these tests are about what the plan holds, not which passes a budget would keep.
    func compile(_ pir: String, _ name: String, in dir: TempDir, _ extra: [String] = []) throws -> (String, [String: Any]) {
        let plan = dir.file(name + ".pare")
        let r = try PareCLI.run(["compile", pir, "-o", plan, "--max-rows", "16", "--json", "--kl-budget", "none"] + extra + calibration)
        XCTAssertEqual(r.status, 0, r.summary)
        return (plan, try json(r))
    }

    /// The plan against the interpreter on the `.pir` it was compiled from: tokenizer, id map, original size, and
    /// every position's logits (relative to their scale) and top-1. Returns the relative difference.
    @discardableResult
    func checkPlan(_ plan: String, against pir: String, label: String) throws -> Double {
        let model = try loadPIR(pir)
        let vocabulary = model.module.vocabulary
        let (loaded, runtime) = try openPlan(plan)
        let t = loaded.plan.tokenizer
        XCTAssertEqual(loaded.plan.model.vocabSize, vocabulary.size, label)
        XCTAssertEqual(t.originalSize, 49152, "\(label): the plan's original vocabulary is the checkpoint's")
        XCTAssertEqual(t.idMap, vocabulary.idMap.map { Array($0) } ?? [], label)
        let ids = model.tokenizer.encode(Self.prompt)
        XCTAssertEqual(try makeTokenizer(t).encode(Self.prompt), ids, "\(label): the plan tokenizes as the .pir does")

        let expected = try Interpreter(module: model.module, store: model.store).forward(ids)
        let got = try runtime.makeSession(maxContext: ids.count).forward(ids, allLogits: true)
        XCTAssertEqual(got.count, expected.data.count, label)
        let rel = relativeDifference(expected.data, got)
        let v = vocabulary.size
        let top1 = argmaxRows(got, width: v)
        XCTAssertEqual(top1, argmaxRows(expected), "\(label): top-1 differs")
        XCTAssertLessThan(rel, 1e-3, "\(label): logits differ by \(rel) of their scale")
        print(String(format: "plan vs .pir %@: %d positions x %d logits, max diff %.2e of scale (tolerance 1e-3) %@, top-1 %@",
                     label, ids.count, v, rel, rel < 1e-3 ? "OK" : "NOT OK", top1 == argmaxRows(expected) ? "equal" : "DIFFER"))
        return rel
    }

    func testEveryPruningPassCompilesFromAPIRAsItIs() throws {
        let dir = try TempDir(prefix: "pare-pir-plan")
        for (pass, pipeline) in [("vocab-prune", "vocab-prune"), ("layer-prune", "layer-prune{remove=7}"),
                                 ("ffn-prune", "ffn-prune{drop=256,strategy=bottom}")] {
            let pir = try opt(pipeline, pass, in: dir)
            let module = try loadPIR(pir).module
            XCTAssertEqual(module[meta: "decision.1.pass"], .string(pass), "pare opt applied \(pipeline)")
            // ffn-prune cuts the down projections' columns: --weights source would re-encode them as q8_0 (a quantize
            // pass, KL-checked), so that the plan no longer computes exactly what the .pir says; f32 keeps it exact.
            let weights = pass == "ffn-prune" ? ["--weights", "f32"] : []
            let (plan, report) = try compile(pir, pass, in: dir, weights)
            // No --passes on a .pir: nothing is pruned again, and the plan names the passes that pruned the .pir.
            XCTAssertEqual(report["pipeline"] as? String, pipeline, pass)
            let records = try XCTUnwrap(report["passes"] as? [[String: Any]])
            XCTAssertFalse(records.contains { $0["pass"] as? String == pass }, "\(pass) ran again: \(records)")
            XCTAssertEqual(report["vocabulary"] as? Int, module.vocabulary.size, pass)
            XCTAssertEqual(report["parameters_after"] as? Int, module.parameterCount, pass)
            try checkPlan(plan, against: pir, label: pass)
            if pass == "ffn-prune" {
                // opt then compile gives the same bytes as compiling the checkpoint with the same passes.
                let direct = dir.file("direct.pare")
                let r = try PareCLI.run(["compile", try Paths.require(Paths.smolGGUF), "--passes", pipeline, "-o", direct,
                                         "--max-rows", "16", "--kl-budget", "none"] + weights + calibration)
                XCTAssertEqual(r.status, 0, r.summary)
                for file in ["plan.pb", "weights.bin"] {
                    XCTAssertEqual(try sha256OfFile(plan + "/" + file), try sha256OfFile(direct + "/" + file), "\(file) differs")
                }
                try FileManager.default.removeItem(atPath: direct)
            }
            try FileManager.default.removeItem(atPath: plan)  // 0.3-0.5 GB of float32 weights each
        }
    }

    func testAPrunedPIRIsPrunedAgainOnlyWhenAsked() throws {
        let dir = try TempDir(prefix: "pare-pir-twice")
        let pir = try opt("vocab-prune", "v", in: dir)
        let once = try loadPIR(pir).module.vocabulary
        XCTAssertEqual(once.sourceSize, 49152)
        // Asked: a second vocab-prune with a smaller corpus composes, the id map still names checkpoint ids.
        let small = try dir.write("small.txt", text: try VocabPruneFixture.corpusExcerpt(bytes: 8_000))
        let (plan, report) = try compile(pir, "vv", in: dir, ["--passes", "vocab-prune{corpus=\(small)}", "--dump-ir", dir.file("vv.pir")])
        XCTAssertEqual(report["pipeline"] as? String, "vocab-prune,vocab-prune{corpus=\(small)}", "both prunes shaped the plan")
        let twice = try parseModule(try readIRText(dir.file("vv.pir")), file: "vv.pir").vocabulary
        let map1 = Array(try XCTUnwrap(once.idMap)), map2 = Array(try XCTUnwrap(twice.idMap))
        XCTAssertLessThan(map2.count, map1.count)
        XCTAssertTrue(Set(map2).isSubset(of: Set(map1)), "the second id map is in checkpoint ids")
        XCTAssertEqual(twice.sourceSize, 49152)
        let (loaded, _) = try openPlan(plan)
        XCTAssertEqual(loaded.plan.tokenizer.idMap, map2)
        XCTAssertEqual(loaded.plan.tokenizer.originalSize, 49152)
        XCTAssertEqual(report["vocabulary"] as? Int, map2.count)
    }
}
