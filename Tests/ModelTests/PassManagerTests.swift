// The pass manager on SmolLM2: a pruning pass over its KL budget is rejected and the module left exactly as it
// was; accepted ones record their decisions and KL; cached before-logits give the same KL as a fresh measurement;
// the same pipeline twice gives byte-identical dumps; a tokenizer change is checked on held-out text, each model
// reading it with its own tokenizer, and a vocabulary pruned to a tiny corpus is rejected there while the model's
// own tokens (select=mass) pass; and `pare opt` / `pare kl` / `pare passes` from the shell.
import Foundation
import PareFrontend
import PareIR
import PareInterpreter
import ParePasses
import XCTest

/// A pruning pass for these tests: bypasses one block through the rewriter (its output's uses read its input),
/// then dce erases its ops and weights.
struct BypassOneBlock: Pass {
    var block: Int
    var name: String { "bypass-one-block" }
    var summary: String { "Bypass one block (test pass)" }
    var isPruning: Bool { true }

    func run(_ r: inout Rewriter, context: PassContext) throws -> PassStatistics {
        guard let b = try r.module.blockAnatomy().first(where: { $0.index == block }) else { return PassStatistics() }
        r.replaceAllUses(of: b.output, with: b.input)
        var stats = try DeadCodeElimination().run(&r, context: context)
        r.setBlocks(r.module.blocks.filter { $0.index != block })
        context.record(&r, "removed", .string(IndexList([block]).description))
        stats.add("block", block)
        return stats
    }
}

final class PassManagerTests: XCTestCase {
    func setUpSmol() throws -> (LoadedModel, PassContext) {
        let smol = try RealModels.smol()
        let cal = try loadCalibration(path: nil, tokenizer: smol.tokenizer, samples: 2, length: 24)
        return (smol, PassContext(store: smol.store, calibration: cal))
    }

    func testAPassOverBudgetIsRejectedAndTheModuleLeftExactlyAsItWas() throws {
        let (smol, context) = try setUpSmol()
        let m = smol.module
        var log: [String] = []
        let manager = PassManager(passes: [ScheduledPass(BypassOneBlock(block: 5))], klBudget: 1e-6, log: { log.append($0) })
        let result = try manager.run(m, context: context)
        XCTAssertTrue(result.module == m, "the rejected pass must leave the module exactly as it was")
        XCTAssertEqual(printModule(result.module), printModule(m))
        let r = try XCTUnwrap(result.records.first)
        XCTAssertTrue(r.rejected)
        XCTAssertFalse(r.changed)
        XCTAssertNil(r.decision)
        let kl = try XCTUnwrap(r.kl)
        XCTAssertGreaterThan(kl.mean, 1e-6)
        XCTAssertEqual(kl.positions, 48)
        XCTAssertEqual(r.rejection, String(format: "KL mean %.6g exceeds the budget 1e-06", kl.mean))
        XCTAssertEqual(r.klBudget, 1e-6)
        XCTAssertEqual(r.parametersBefore, m.parameterCount)
        XCTAssertEqual(r.parametersAfter, m.parameterCount)
        // One block of SmolLM2: 4 attention and 3 FFN matrices plus 2 norms.
        let block = 576 * 576 * 2 + 576 * 192 * 2 + 3 * 576 * 1536 + 2 * 576
        XCTAssertEqual(r.parametersRejected, m.parameterCount - block)
        XCTAssertEqual(r.statistics["block"], "5")
        XCTAssertFalse(result.module.metadata.contains { $0.key.hasPrefix("decision.") })
        XCTAssertEqual(log.count, 1)
        XCTAssertTrue(log[0].contains("rejected, module unchanged") && log[0].contains("exceeds the budget"), log[0])
    }

    func testAcceptedPassesRecordDecisionsAndReuseCachedLogits() throws {
        let (smol, context) = try setUpSmol()
        let m = smol.module
        let passes = [ScheduledPass(BypassOneBlock(block: 5)), ScheduledPass(DeadCodeElimination()), ScheduledPass(BypassOneBlock(block: 20))]
        let result = try PassManager(passes: passes, klBudget: 10).run(m, context: context)
        XCTAssertEqual(result.records.map(\.changed), [true, false, true])
        XCTAssertEqual(result.records.map(\.decision), ["decision.1", nil, "decision.2"])
        XCTAssertEqual(result.module.blocks.count, 28)
        XCTAssertEqual(result.records[2].parametersAfter, result.module.parameterCount)

        // The records, in order: the manager's header, the pass's own decisions, then KL and calibration.
        let keys = result.module.metadata.map(\.key).filter { $0.hasPrefix("decision.1.") }
        XCTAssertEqual(keys, ["pass", "options", "removed", "kl.mean", "kl.median", "kl.p99", "kl.max", "kl.top1", "kl.positions",
                              "calibration"].map { "decision.1." + $0 })
        let kl1 = try XCTUnwrap(result.records[0].kl), kl2 = try XCTUnwrap(result.records[2].kl)
        XCTAssertEqual(result.module[meta: "decision.1.pass"], .string("bypass-one-block"))
        XCTAssertEqual(result.module[meta: "decision.1.kl.mean"], .float(kl1.mean))
        XCTAssertEqual(result.module[meta: "decision.2.kl.top1"], .float(kl2.top1Agreement))
        XCTAssertEqual(result.module[meta: "decision.2.removed"], .string("[20]"))
        XCTAssertEqual(result.module[meta: "decision.1.calibration"], .string(context.calibration!.origin))

        // The KL of the first pass is KL(m ‖ m - block 5), measured afresh.
        let first = try PassManager(passes: [passes[0]]).run(m, context: context).module
        XCTAssertEqual(try context.kl(before: m, after: first), kl1)
        // The third pass was measured against cached logits of the module before it; a fresh measurement agrees exactly.
        let beforeThird = try PassManager(passes: Array(passes[0..<2])).run(m, context: context).module
        var r = Rewriter(beforeThird)
        _ = try BypassOneBlock(block: 20).run(&r, context: context)
        XCTAssertEqual(try context.kl(before: beforeThird, after: r.module), kl2)
        // The result parses back and verifies.
        XCTAssertTrue(try parseModule(printModule(result.module), file: "result.pir") == result.module.canonicalized())
        XCTAssertEqual(verify(result.module).filter { $0.severity == .error }, [])
    }

    func testTheSamePipelineTwiceGivesByteIdenticalDumps() throws {
        let (smol, context) = try setUpSmol()
        let dir = try TempDir(prefix: "pare-determinism")
        let passes = [ScheduledPass(BypassOneBlock(block: 3)), ScheduledPass(DeadCodeElimination()), ScheduledPass(BypassOneBlock(block: 17))]
        for run in ["a", "b"] {
            _ = try PassManager(passes: passes, dumpDirectory: dir.file(run)).run(smol.module, context: context)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.file("a")).sorted()
        XCTAssertEqual(names, ["00-input.pir", "01-bypass-one-block.pir", "02-dce.pir", "03-bypass-one-block.pir"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.file("b")).sorted(), names)
        for n in names {
            let a = try Data(contentsOf: URL(fileURLWithPath: dir.file("a/" + n)))
            let b = try Data(contentsOf: URL(fileURLWithPath: dir.file("b/" + n)))
            XCTAssertEqual(a, b, "\(n) differs between two runs")
        }
        let last = try String(contentsOfFile: dir.file("a/03-bypass-one-block.pir"), encoding: .utf8)
        XCTAssertTrue(last.contains("decision.2.kl.mean = "), "KL is on record in the dump")
    }

    // MARK: The command line

    let small = ["--calibration-samples", "2", "--calibration-length", "24"]

    func testOptWritesIRAndJSONRecords() throws {
        let smol = try Paths.require(Paths.smolGGUF)
        let dir = try TempDir(prefix: "pare-opt")
        let r = try PareCLI.run(["opt", smol, "--passes", " dce ", "--json", "-o", dir.file("out.pir"), "--dump-dir", dir.file("dumps")] + small)
        XCTAssertEqual(r.status, 0, r.summary)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any], r.out)
        XCTAssertEqual(Set(json.keys), ["model", "pipeline", "calibration", "held_out", "kl_budget", "held_out_budget", "parameters_before",
                                         "parameters_after", "output", "passes"])
        XCTAssertEqual(json["pipeline"] as? String, " dce ")
        XCTAssertTrue(json["calibration"] is NSNull, "no pruning pass, no calibration set")
        XCTAssertEqual(json["parameters_before"] as? Int, 134_515_008)
        XCTAssertEqual(json["parameters_after"] as? Int, 134_515_008)
        let passes = try XCTUnwrap(json["passes"] as? [[String: Any]])
        XCTAssertEqual(passes.count, 1)
        XCTAssertEqual(passes[0]["pass"] as? String, "dce")
        XCTAssertEqual(passes[0]["changed"] as? Bool, false)
        XCTAssertTrue(passes[0]["kl"] is NSNull)
        XCTAssertEqual((passes[0]["statistics"] as? [String: String])?["ops erased"], "0")
        XCTAssertTrue(r.err.contains("[1/1] dce: unchanged"), r.err)

        let text = try String(contentsOfFile: dir.file("out.pir"), encoding: .utf8)
        let dump = try PareCLI.run(["dump-ir", smol])
        XCTAssertEqual(text, dump.out, "dce changes nothing in a fresh module")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.file("dumps")).sorted(), ["00-input.pir", "01-dce.pir"])
        XCTAssertEqual(try dir.listing(), ["dumps", "out.pir"], "no temporary file is left behind")

        // Without -o and --json the IR goes to standard output.
        let plain = try PareCLI.run(["opt", smol, "--passes", "none"])
        XCTAssertEqual(plain.status, 0, plain.summary)
        XCTAssertEqual(plain.out, dump.out)
    }

    func testOptRejectsOverBudgetAndKeepsTheModule() throws {
        // End to end with the registered layer-prune pass: removing block 5 costs more than 1e-9 nats.
        let smol = try Paths.require(Paths.smolGGUF)
        XCTAssertNotNil(PassRegistry.standard.entry(named: "layer-prune")?.options.first { $0.name == "remove" },
                        "layer-prune{remove=...} is registered")
        let r = try PareCLI.run(["opt", smol, "--passes", "layer-prune{remove=5}", "--kl-budget", "1e-9", "--json"] + small)
        XCTAssertEqual(r.status, 0, r.summary)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any], r.out)
        let pass = try XCTUnwrap((json["passes"] as? [[String: Any]])?.first)
        XCTAssertEqual(pass["rejected"] as? Bool, true)
        XCTAssertEqual(pass["changed"] as? Bool, false)
        XCTAssertTrue((pass["rejection"] as? String)?.contains("exceeds the budget 1e-09") == true, "\(pass)")
        XCTAssertGreaterThan(((pass["kl"] as? [String: Any])?["mean"] as? Double) ?? 0, 1e-9)
        XCTAssertEqual(json["parameters_after"] as? Int, json["parameters_before"] as? Int)
        XCTAssertTrue((json["calibration"] as? String)?.hasPrefix("data/calibration/code.txt (sha256 ") == true)
        XCTAssertTrue(r.err.contains("REJECTED") && r.err.contains("the module is left as it was"), r.err)
    }

    func testPrunedPIRMeasuredByKLMatchesTheRecordedDecision() throws {
        // pare opt prunes and records KL; pare kl on the written .pir measures the same number from scratch.
        let smol = try Paths.require(Paths.smolGGUF)
        let dir = try TempDir(prefix: "pare-opt-kl")
        let out = dir.file("pruned.pir")
        let r = try PareCLI.run(["opt", smol, "--passes", "dce, layer-prune{remove=5}", "--print-ir-after-change", "-o", out] + small)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.err.components(separatedBy: "// -----// IR after ").count - 1, 1, r.err)
        XCTAssertTrue(r.err.contains("// -----// IR after [2/2] layer-prune{remove=5} (changed) //----- //\n// pare ir v1\n"), r.err)
        XCTAssertTrue(r.out.isEmpty, "the IR went to -o")
        let pruned = try parseModule(try String(contentsOfFile: out, encoding: .utf8), file: out)
        XCTAssertEqual(pruned[meta: "decision.1.pass"], .string("layer-prune"))
        XCTAssertEqual(pruned[meta: "decision.1.options"], .string("remove=5"))
        let recorded = try XCTUnwrap(pruned[meta: "decision.1.kl.mean"]?.doubleValue)

        let kl = try PareCLI.run(["kl", smol, out, "--json"] + small)
        XCTAssertEqual(kl.status, 0, kl.summary)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: kl.stdout) as? [String: Any], kl.out)
        let mean = try XCTUnwrap((json["kl"] as? [String: Any])?["mean"] as? Double)
        XCTAssertEqual(mean, recorded, accuracy: 1e-12 + 1e-9 * recorded)
        XCTAssertGreaterThan(mean, 0)
        // Reversed, the two still share their vocabulary, so they compare too.
        let back = try PareCLI.run(["kl", out, smol] + small)
        XCTAssertEqual(back.status, 0, back.summary)
    }

    func testBadPipelinesAndOptionsExitWith64AndALocatedError() throws {
        let smol = try Paths.require(Paths.smolGGUF)
        let cases: [([String], [String])] = [
            (["--passes", "dce{x=1}"], ["pipeline:1:5: error: unknown option 'x' for dce; it accepts no options", "  dce{x=1}\n      ^"]),
            (["--passes", "dce,"], ["pipeline:1:4: error: trailing ',' after the last pass"]),
            (["--passes", "dec"], ["pipeline:1:1: error: unknown pass 'dec'; did you mean 'dce'?; known passes: dce"]),
            (["--passes", "dce", "--calibration-samples", "0"], ["--calibration-samples must be between 1 and 256, got 0"]),
            (["--passes", "dce", "--kl-budget=-1"], ["--kl-budget must be a finite number >= 0, got -1.0"]),
            (["--passes", "dce", "--kl-budget", "inf"], ["--kl-budget must be a finite number >= 0, got inf"]),
        ]
        for (args, fragments) in cases {
            let r = try PareCLI.run(["opt", smol] + args)
            assertFailure(r, status: 64, stderrContains: fragments, context: args.joined(separator: " "))
        }
        // A bad pipeline is reported before the model is even opened.
        let r = try PareCLI.run(["opt", "/nonexistent.gguf", "--passes", "dce{x=1}"])
        assertFailure(r, status: 64, stderrContains: ["pipeline:1:5: error:"])
        // A calibration file that is too short is a bad input file.
        let dir = try TempDir(prefix: "pare-opt-cal")
        let short = try dir.write("short.py", text: "x = 1\n")
        let c = try PareCLI.run(["opt", smol, "--passes", "dce", "--calibration", short])
        assertFailure(c, status: 3, stderrContains: ["error: calibration file \(short) has ", "4 samples of 128 tokens need 512"])
    }

    func testKLOfAModelWithItselfIsZero() throws {
        let smol = try Paths.require(Paths.smolGGUF)
        let dir = try TempDir(prefix: "pare-kl")
        let pir = dir.file("smol.pir")
        XCTAssertEqual(try PareCLI.run(["dump-ir", smol, "-o", pir]).status, 0)
        let r = try PareCLI.run(["kl", smol, pir, "--json"] + small)
        XCTAssertEqual(r.status, 0, r.summary)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any], r.out)
        XCTAssertEqual(Set(json.keys), ["a", "b", "calibration", "kl"])
        let kl = try XCTUnwrap(json["kl"] as? [String: Any])
        XCTAssertEqual(Set(kl.keys), ["positions", "mean", "median", "p99", "max", "top1_agreement", "removed_mass_mean", "removed_mass_max"])
        XCTAssertEqual(kl["positions"] as? Int, 48)
        XCTAssertEqual(kl["mean"] as? Double, 0)
        XCTAssertEqual(kl["top1_agreement"] as? Double, 1)

        let text = try PareCLI.run(["kl", smol, smol] + small)
        XCTAssertEqual(text.status, 0, text.summary)
        XCTAssertTrue(text.out.hasPrefix("KL(\(smol) ‖ \(smol)) on data/calibration/code.txt (sha256 "), text.out)
        XCTAssertTrue(text.out.contains("KL mean 0, median 0, p99 0, max 0; top-1 agreement 100.0% over 48 positions"), text.out)
    }

    func testKLHonoursPAREDATAAndRefusesIncomparableModels() throws {
        let smol = try Paths.require(Paths.smolGGUF)
        // PARE_DATA points the default calibration file elsewhere.
        let data = try TempDir(prefix: "pare-data")
        try FileManager.default.createDirectory(atPath: data.file("calibration"), withIntermediateDirectories: true)
        let body = String(repeating: "def add(a, b):\n    return a + b\n\n", count: 20)
        try data.write("calibration/code.txt", text: body)
        let digest = Data(body.utf8).withUnsafeBytes { sha256Hex($0) }
        let r = try PareCLI.run(["kl", smol, smol, "--json"] + small, environment: ["PARE_DATA": data.path])
        XCTAssertEqual(r.status, 0, r.summary)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any], r.out)
        XCTAssertTrue((json["calibration"] as? String)?.contains("(sha256 \(digest.prefix(12)))") == true, "\(json)")

        // Different checkpoints with different vocabularies cannot be compared.
        let qwen = try Paths.require(Paths.qwenGGUF)
        let bad = try PareCLI.run(["kl", smol, qwen] + small)
        assertFailure(bad, status: 64, stderrContains: ["error: cannot compare", "different checkpoints with 49152 and 151936 tokens"])
    }

    // MARK: The held-out check of tokenizer changes

    /// SmolLM2, a little calibration code and four held-out pieces of the shipped mixed text.
    func setUpHeldOut() throws -> (LoadedModel, PassContext) {
        let smol = try RealModels.smol()
        let cal = try loadCalibration(path: nil, tokenizer: smol.tokenizer, samples: 2, length: 24)
        let held = try loadHeldOut(path: nil, samples: 4, bytes: 768)
        return (smol, PassContext(store: smol.store, calibration: cal, heldOut: held))
    }

    func testHeldOutCheckRejectsATinyCorpusPruneAndAcceptsTheModelsOwnTokens() throws {
        let (smol, context) = try setUpHeldOut()
        let dir = try TempDir(prefix: "pare-heldout")
        // Known-bad: 2 KB of Python keeps a few hundred tokens; held-out Go, Rust, JS and prose are spelt in fragments.
        let tiny = try dir.write("tiny.txt", Data(try VocabPruneFixture.corpusExcerpt(bytes: 2_000).utf8))
        let bad = PassManager(passes: [ScheduledPass(VocabPrune(corpus: tiny))], klBudget: 0.5, heldOutBudget: 0.02)
        let rejected = try bad.run(smol.module, context: context)
        let r = try XCTUnwrap(rejected.records.first)
        XCTAssertTrue(r.rejected, "\(r)")
        XCTAssertTrue(rejected.module == smol.module, "a rejected vocabulary prune leaves the module exactly as it was")
        let h = try XCTUnwrap(r.heldOut, "a tokenizer change is checked on held-out text")
        XCTAssertEqual(h.texts, 4)
        XCTAssertGreaterThan(h.lossIncrease, 0.02, h.summary)
        XCTAssertGreaterThan(h.tokensAfter, h.tokensBefore, "the pruned tokenizer needs more tokens for the same text")
        XCTAssertEqual(h.tokenizationsChanged, 4)
        XCTAssertLessThan(h.alignedShare, 0.9, h.summary)
        XCTAssertEqual(r.kl, h.kl, "the record's KL is the held-out KL at aligned positions")
        XCTAssertTrue(r.rejection?.hasPrefix("held-out loss per byte grows by") == true, r.rejection ?? "")
        XCTAssertEqual(r.heldOutBudget, 0.02)

        // Good: the model's own tokens on the shipped mixed corpus: the same held-out text costs almost nothing more.
        let good = PassManager(passes: [ScheduledPass(VocabPrune(corpus: try XCTUnwrap(VocabPrune.defaultCorpus(VocabPrune.shippedMixedCorpus)),
                                                                 selection: .mass(share: 0.995, samples: 4, length: 128)))],
                               klBudget: 0.5, heldOutBudget: 0.02)
        let accepted = try good.run(smol.module, context: context)
        let a = try XCTUnwrap(accepted.records.first)
        XCTAssertFalse(a.rejected, a.rejection ?? "")
        XCTAssertTrue(a.changed)
        let g = try XCTUnwrap(a.heldOut)
        XCTAssertLessThan(g.lossIncrease, 0.02, g.summary)
        XCTAssertLessThan(g.lossIncrease, h.lossIncrease / 4, "the mass selection misreads far less than the tiny corpus")
        XCTAssertGreaterThan(g.alignedShare, 0.95, g.summary)
        XCTAssertLessThan(g.removedMass, 0.02, g.summary)
        XCTAssertLessThan(accepted.module.vocabulary.size, smol.module.vocabulary.size * 3 / 4)
        // Recorded like a KL decision, under held_out instead of calibration.
        let m = accepted.module
        XCTAssertEqual(m[meta: "decision.1.held_out.nats_per_byte_after"], .float(g.natsPerByteAfter))
        XCTAssertEqual(m[meta: "decision.1.held_out.removed_mass"], .float(g.removedMass))
        XCTAssertEqual(m[meta: "decision.1.kl.mean"], .float(g.kl.mean))
        XCTAssertTrue(m[meta: "decision.1.held_out"]?.stringValue?.hasPrefix("data/heldout/mixed.txt (sha256 ") == true)
        XCTAssertNil(m[meta: "decision.1.calibration"])
        XCTAssertNotNil(a.statistics["held-out removed mass"], a.statisticsSummary)
        XCTAssertNotNil(a.statistics["held-out tokenizations changed"], a.statisticsSummary)
    }

    func testHeldOutCheckOfAModuleWithItselfIsExact() throws {
        // Known-good reference for the checker: the same module on both sides reads the same tokens, loses the same
        // nats per byte, agrees at every position with KL 0, and changes no tokenization.
        let (smol, context) = try setUpHeldOut()
        let held = try XCTUnwrap(context.heldOut)
        let h = try measureHeldOut(before: smol.module, after: smol.module, store: smol.store, heldOut: held)
        XCTAssertEqual(h.natsPerByteBefore, h.natsPerByteAfter)
        XCTAssertGreaterThan(h.natsPerByteBefore, 0.1)
        XCTAssertEqual(h.lossIncrease, 0)
        XCTAssertEqual(h.tokenizationsChanged, 0)
        XCTAssertEqual(h.alignedPositions, h.positionsAfter)
        XCTAssertEqual(h.kl.max, 0)
        XCTAssertEqual(h.removedMass, 0)
        XCTAssertGreaterThan(h.bytes, 4 * 700)
    }

    func testHeldOutBudgetWithoutHeldOutTextIsAnError() throws {
        let smol = try RealModels.smol()
        let dir = try TempDir(prefix: "pare-heldout")
        let tiny = try dir.write("tiny.txt", Data(try VocabPruneFixture.corpusExcerpt(bytes: 2_000).utf8))
        let manager = PassManager(passes: [ScheduledPass(VocabPrune(corpus: tiny))], heldOutBudget: 0.02)
        XCTAssertThrowsError(try manager.run(smol.module, context: PassContext(store: smol.store))) { e in
            XCTAssertTrue(e.localizedDescription.contains("held-out text"), e.localizedDescription)
        }
    }

    func testPassesListsTheRegistry() throws {
        let r = try PareCLI.run(["passes", "--json"])
        XCTAssertEqual(r.status, 0, r.summary)
        let list = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdout) as? [[String: Any]])
        XCTAssertEqual(list.compactMap { $0["name"] as? String }, PassRegistry.standard.names)
        let dce = try XCTUnwrap(list.first { $0["name"] as? String == "dce" })
        XCTAssertEqual(dce["pruning"] as? Bool, false)
        XCTAssertEqual((dce["options"] as? [Any])?.count, 0)
        let text = try PareCLI.run(["passes"])
        XCTAssertTrue(text.out.hasPrefix("dce: Erase ops whose results are unused"), text.out)
    }
}
