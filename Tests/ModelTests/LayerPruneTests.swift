// layer-prune on SmolLM2: the cached-activation bypass equals the rewritten module, greedy KL picks the brute-force
// minimum, kl-budget stops in time, the other criteria score what they claim, protection, bad options, determinism.
import Foundation
import PareFrontend
import PareIR
import PareInterpreter
import ParePasses
import XCTest

final class LayerPruneTests: XCTestCase {
    static let code = """
        function mergeSorted(a, b) {
          const out = [];
          let i = 0, j = 0;
          while (i < a.length && j < b.length) {
            out.push(a[i] <= b[j] ? a[i++] : b[j++]);
          }
          return out.concat(a.slice(i), b.slice(j));
        }

        fn word_count(text: &str) -> std::collections::HashMap<String, usize> {
            let mut counts = std::collections::HashMap::new();
            for word in text.split_whitespace() {
                *counts.entry(word.to_lowercase()).or_insert(0) += 1;
            }
            counts
        }
        """

    /// SmolLM2 and a calibration set of 2 x 32 tokens of JavaScript and Rust.
    func smol() throws -> (LoadedModel, Calibration) {
        let model = try RealModels.smol()
        let ids = model.tokenizer.encode(LayerPruneTests.code)
        XCTAssertGreaterThanOrEqual(ids.count, 64)
        return (model, Calibration(sequences: [Array(ids[0..<32]), Array(ids[32..<64])], origin: "LayerPruneTests, 2 x 32 tokens"))
    }

    func context(_ model: LoadedModel, _ cal: Calibration, progress: @escaping (String) -> Void = { _ in }) -> PassContext {
        PassContext(store: model.store, calibration: cal, progress: progress)
    }

    /// `layer-prune{count=2, protect-first=10}` (kl) on SmolLM2, run once per test process, with the progress lines it
    /// printed. Candidates 10...28 (19 of them, the cheaper half to run past) keep the KL tests fast.
    private static var countTwo: (result: PassResult, progress: [String])?
    func countTwoRun() throws -> (result: PassResult, progress: [String]) {
        if let c = LayerPruneTests.countTwo { return c }
        let (model, cal) = try smol()
        var lines: [String] = []
        let r = try runPass(LayerPrune(goal: .count(2), protectFirst: 10), on: model.module, context: context(model, cal) { lines.append($0) })
        LayerPruneTests.countTwo = (r, lines)
        return (r, lines)
    }

    /// `[21, 18, 9]` -> [21, 18, 9].
    func removed(_ m: Module) -> [Int] {
        (m[meta: "decision.0.removed"]?.stringValue ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            .split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// `decision.0.scores.<k>` ("b:score b:score ...") as (block, score) pairs in order.
    func scores(_ m: Module, _ k: Int) -> [(block: Int, score: Double)] {
        (m[meta: "decision.0.scores.\(k)"]?.stringValue ?? "").split(separator: " ").compactMap { item in
            let parts = item.split(separator: ":")
            guard parts.count == 2, let b = Int(parts[0]), let s = Double(parts[1]) else { return nil }
            return (b, s)
        }
    }

    /// The block with the lowest score (the first on ties).
    func argmin(_ s: [(block: Int, score: Double)]) -> Int? { s.min { $0.score < $1.score }?.block }

    /// Largest |a - b| over two tensors of one shape.
    func maxDiff(_ a: Tensor, _ b: Tensor) -> Float {
        XCTAssertEqual(a.shape, b.shape)
        return zip(a.data, b.data).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    /// `m` with `blocks` removed through the pass's rewrite.
    func without(_ blocks: [Int], _ m: Module) throws -> Module {
        var r = Rewriter(m)
        for b in blocks { try LayerPrune.removeBlock(b, from: &r) }
        return r.module
    }

    // MARK: The activation cache

    func testBypassLogitsEqualTheRewrittenModule() throws {
        let (model, cal) = try smol()
        let m = model.module
        let probe = try LayerProbe(m, store: model.store, sequences: cal.sequences, keepLogits: true)
        let original = probe.takeLogits()
        XCTAssertEqual(probe.blocks.count, 30)
        for position in [0, 14, 29] {
            let b = probe.blocks[position].index
            let rewritten = try without([b], m)
            XCTAssertFalse(verify(rewritten).contains { $0.severity == .error }, "block \(b) removed: \(verify(rewritten))")
            let interp = try Interpreter(module: rewritten, store: model.store)
            for s in cal.sequences.indices {
                let cached = try probe.bypassLogits(position, sequence: s)
                let scratch = try interp.forward(cal.sequences[s])
                let d = maxDiff(cached, scratch)
                print(String(format: "bypass block %2d seq %d: max |diff| %.3g, tolerance 1e-4, %@", b, s, d, d < 1e-4 ? "OK" : "NOT OK"))
                XCTAssertLessThan(d, 1e-4, "block \(b), sequence \(s)")
                // The bypass is not a no-op: the logits move.
                XCTAssertGreaterThan(maxDiff(cached, original[s]), 1e-2, "block \(b), sequence \(s)")
            }
        }
    }

    // MARK: Greedy KL

    func testCountTwoRemovesTwoBlocksAndRecordsTheDecision() throws {
        let (model, _) = try smol()
        let (r, progress) = try countTwoRun()
        let m = r.module, before = model.module
        let gone = removed(m)
        XCTAssertEqual(gone.count, 2)
        XCTAssertTrue(gone.allSatisfy { (10...28).contains($0) }, "\(gone) are unprotected blocks")
        XCTAssertEqual(r.statistics["blocks before"], .int(30))
        XCTAssertEqual(r.statistics["blocks after"], .int(28))
        XCTAssertEqual(r.statistics["removed"], .string("[\(gone[0]), \(gone[1])]"))
        XCTAssertEqual(r.statistics["candidates scored"], .int(19 + 18))
        XCTAssertEqual(m.blocks.map(\.index), before.blocks.map(\.index).filter { !gone.contains($0) })
        XCTAssertFalse(verify(m).contains { $0.severity == .error })
        // KV slots dense, in op order; blocks keep their original indices.
        let attention = m.function.ops.filter { $0.kind == .attention }
        XCTAssertEqual(attention.compactMap { $0.int("kv_slot") }, Array(0..<28))
        XCTAssertEqual(attention.compactMap(\.block), before.blocks.map(\.index).filter { !gone.contains($0) })
        // Parameters gone, counted.
        let blockParams = before.parameters.filter { p in gone.contains { p.name.hasPrefix("blk.\($0).") } }
        XCTAssertEqual(blockParams.count, 18)
        XCTAssertFalse(m.parameters.contains { p in gone.contains { p.name.hasPrefix("blk.\($0).") } })
        XCTAssertEqual(r.statistics["parameters removed"], .int(blockParams.reduce(0) { $0 + $1.count }))
        XCTAssertEqual(m.parameterCount, before.parameterCount - blockParams.reduce(0) { $0 + $1.count })
        // Records, in the dump.
        let dump = printModule(m)
        XCTAssertTrue(dump.contains("decision.0.removed = \"[\(gone[0]), \(gone[1])]\""), dump.prefix(1500).description)
        XCTAssertTrue(dump.contains("decision.0.criterion = \"kl\""))
        XCTAssertTrue(dump.contains("decision.0.protect_first = 10"))
        XCTAssertTrue(dump.contains("decision.0.protect_last = 1"))
        let s1 = scores(m, 1), s2 = scores(m, 2)
        XCTAssertEqual(s1.map(\.block), Array(10...28))
        XCTAssertEqual(s2.map(\.block), Array(10...28).filter { $0 != gone[0] })
        XCTAssertEqual(argmin(s1), gone[0])
        XCTAssertEqual(argmin(s2), gone[1])
        XCTAssertTrue(s1.allSatisfy { $0.score >= 0 && $0.score.isFinite })
        // KL against the original grows with each removal here; the best score of iteration 2 is the pass's KL.
        let best = (r.statistics["best scores"]?.stringValue ?? "").split(separator: " ").compactMap { Double($0) }
        XCTAssertEqual(best.count, 2)
        XCTAssertEqual(best.first, s1.map(\.score).min())
        XCTAssertEqual(best.last, s2.map(\.score).min())
        // Progress with an ETA.
        XCTAssertTrue(progress.contains { $0.range(of: #"^layer-prune: iteration 1/2, candidate \d+/19, ETA \d+ s$"#, options: .regularExpression) != nil },
                      "\(progress.prefix(3))")
        XCTAssertEqual(progress.last, "layer-prune: iteration 2/2, candidate 18/18, ETA 0 s")
    }

    func testGreedyPicksTheBruteForceMinimumAndRescoresAgainstTheOriginal() throws {
        let (model, cal) = try smol()
        let (r, _) = try countTwoRun()
        let m = model.module, ctx = context(model, cal)
        let gone = removed(r.module)
        // (each kl call recomputes the dense module's logits: slower, but independent of the pass's caching)
        // Iteration 1: every candidate, rewritten and run from scratch, KL by the pass manager's checker.
        var brute: [(block: Int, score: Double)] = []
        for b in 10...28 { brute.append((b, try ctx.kl(before: m, after: try without([b], m)).mean)) }
        let recorded = scores(r.module, 1)
        XCTAssertEqual(recorded.map(\.block), brute.map(\.block))
        for (a, e) in zip(recorded, brute) {
            XCTAssertEqual(a.score, e.score, accuracy: 1e-5 + 1e-3 * e.score, "block \(a.block)")
        }
        XCTAssertEqual(argmin(brute), gone[0])
        // Iteration 2 scores the module without gone[0], still against the ORIGINAL module's distributions.
        let recorded2 = Dictionary(uniqueKeysWithValues: scores(r.module, 2).map { ($0.block, $0.score) })
        let other = recorded2.keys.sorted().first { $0 != gone[1] }!
        for b in [gone[1], other] {
            let e = try ctx.kl(before: m, after: try without([gone[0], b], m)).mean
            XCTAssertEqual(recorded2[b] ?? -1, e, accuracy: 1e-5 + 1e-3 * e, "iteration 2, block \(b)")
        }
        // And the pass's result is that module.
        let final = try ctx.kl(before: m, after: r.module).mean
        XCTAssertEqual(final, recorded2[gone[1]] ?? -1, accuracy: 1e-5 + 1e-3 * final)
    }

    func testKLBudgetStopsBeforeExceedingTheBudgetAndRepeatsTheCountRun() throws {
        let (model, cal) = try smol()
        let ctx = context(model, cal)
        // Candidates 22...27 keep this cheap: first the count run, then a budget between its two steps.
        let base = try runPass(LayerPrune(goal: .count(2), protectFirst: 22, protectLast: 2), on: model.module, context: ctx)
        let best = (base.statistics["best scores"]?.stringValue ?? "").split(separator: " ").compactMap { Double($0) }
        XCTAssertEqual(best.count, 2)
        guard best.count == 2, best[1] > best[0] else { return XCTFail("KL should grow with the second removal: \(best)") }
        let budget = (best[0] + best[1]) / 2
        let r = try runPass(LayerPrune(goal: .klBudget(budget), protectFirst: 22, protectLast: 2), on: model.module, context: ctx)
        XCTAssertEqual(removed(r.module), [removed(base.module)[0]])
        let stop = r.module[meta: "decision.0.stop"]?.stringValue ?? ""
        XCTAssertTrue(stop.hasPrefix("removing block \(removed(base.module)[1]) next would give mean KL "), stop)
        XCTAssertEqual(r.statistics["stopped"], .string(stop))
        let measured = try ctx.kl(before: model.module, after: r.module).mean
        XCTAssertLessThanOrEqual(measured, budget)
        XCTAssertEqual(measured, best[0], accuracy: 1e-5 + 1e-3 * best[0])
        // Determinism: the same iterations score exactly the same.
        for k in 1...2 {
            XCTAssertEqual(r.module[meta: "decision.0.scores.\(k)"], base.module[meta: "decision.0.scores.\(k)"], "scores.\(k)")
        }
        // A budget below every single removal removes nothing (and changes nothing but the records).
        let none = try runPass(LayerPrune(goal: .klBudget(best[0] / 2), protectFirst: 22, protectLast: 2), on: model.module, context: ctx)
        XCTAssertEqual(removed(none.module), [])
        XCTAssertEqual(none.module.function, model.module.function)
        XCTAssertEqual(none.module.blocks.count, 30)
    }

    func testKLBudgetWithBlockInfluenceChecksTheKLOfEachRemoval() throws {
        let (model, cal) = try smol()
        let ctx = context(model, cal)
        let budget = 0.5
        let r = try runPass(LayerPrune(goal: .klBudget(budget), criterion: .bi), on: model.module, context: ctx)
        let gone = removed(r.module)
        print("kl-budget=\(budget), criterion=bi removed \(gone); \(r.statistics)")
        XCTAssertFalse(gone.isEmpty)
        let measured = try ctx.kl(before: model.module, after: r.module).mean
        XCTAssertLessThanOrEqual(measured, budget)
        let stop = r.module[meta: "decision.0.stop"]?.stringValue ?? ""
        guard let range = stop.range(of: #"mean KL [0-9.e+-]+"#, options: .regularExpression),
              let next = Double(stop[range].dropFirst("mean KL ".count)) else { return XCTFail("stop record: \(stop)") }
        XCTAssertGreaterThan(next, budget)
        // Each removal follows the block-influence ranking of its iteration.
        for (k, b) in gone.enumerated() { XCTAssertEqual(argmin(scores(r.module, k + 1)), b, "iteration \(k + 1)") }
    }

    // MARK: Other criteria

    func testBlockInfluenceAngularAndPerplexityScoreWhatTheyClaim() throws {
        let (model, cal) = try smol()
        let m = model.module, ctx = context(model, cal)
        // Residual streams entering and leaving every block, captured from scratch.
        let anatomy = try m.blockAnatomy()
        let interp = try Interpreter(module: m, store: model.store)
        var captured: [[Value: Tensor]] = []
        for seq in cal.sequences {
            var cache = interp.makeCache()
            captured.append(try interp.run(seq, capture: Set(anatomy.flatMap { [$0.input, $0.output] }), cache: &cache).captured)
        }
        func cosine(_ a: Tensor, _ b: Tensor, _ row: Int) -> Double {
            let x = a.row(row).map(Double.init), y = b.row(row).map(Double.init)
            let dot = zip(x, y).reduce(0) { $0 + $1.0 * $1.1 }
            return dot / (x.reduce(0) { $0 + $1 * $1 }.squareRoot() * y.reduce(0) { $0 + $1 * $1 }.squareRoot())
        }
        // Rankings of blocks 10...28 (the candidates of the shared kl run; ppl, which runs every candidate, is
        // limited to them too to stay fast).
        var orders: [LayerCriterion: [Int]] = [:]
        orders[.kl] = scores(try countTwoRun().result.module, 1).sorted { $0.score < $1.score }.map(\.block)
        for criterion in [LayerCriterion.bi, .angular, .ppl] {
            let first = criterion == .ppl ? 10 : 1
            let r = try runPass(LayerPrune(goal: .count(1), criterion: criterion, protectFirst: first), on: m, context: ctx)
            let s = scores(r.module, 1)
            XCTAssertEqual(s.map(\.block), Array(first...28), "\(criterion)")
            XCTAssertEqual(removed(r.module), [argmin(s)!], "\(criterion)")
            XCTAssertEqual(r.module[meta: "decision.0.criterion"], .string(criterion.rawValue))
            orders[criterion] = s.sorted { $0.score < $1.score }.map(\.block).filter { $0 >= 10 }
            for (b, score) in s where (criterion == .ppl ? [10, 27] : [1, 10, 27]).contains(b) {
                let a = anatomy[b]
                let expected: Double
                switch criterion {
                case .bi:
                    var sum = 0.0, n = 0
                    for c in captured { for row in 0..<32 { sum += cosine(c[a.input]!, c[a.output]!, row); n += 1 } }
                    expected = 1 - sum / Double(n)
                case .angular:
                    expected = captured.map { acos(cosine($0[a.input]!, $0[a.output]!, 31)) / Double.pi }.reduce(0, +) / 2
                case .ppl:
                    let q = try Interpreter(module: try without([b], m), store: model.store)
                    var nll = 0.0, n = 0
                    for seq in cal.sequences {
                        let logits = try q.forward(seq)
                        for t in 0..<(seq.count - 1) {
                            let row = logits.row(t).map(Double.init)
                            let mx = row.max()!
                            nll += mx + log(row.reduce(0) { $0 + exp($1 - mx) }) - row[seq[t + 1]]
                            n += 1
                        }
                    }
                    expected = exp(nll / Double(n))
                case .kl: continue
                }
                XCTAssertEqual(score, expected, accuracy: 1e-5 + 1e-4 * abs(expected), "\(criterion), block \(b)")
            }
            switch criterion {
            case .bi: XCTAssertTrue(s.allSatisfy { (0...2).contains($0.score) })
            case .angular: XCTAssertTrue(s.allSatisfy { (0...1).contains($0.score) })
            default: XCTAssertTrue(s.allSatisfy { $0.score > 1 })
            }
        }
        for (c, o) in orders.sorted(by: { $0.key.rawValue < $1.key.rawValue }) { print("\(c.rawValue) ranking: \(o)") }
        // Four different criteria, four different rankings of the same 19 blocks.
        XCTAssertTrue(orders.values.allSatisfy { $0.sorted() == Array(10...28) })
        XCTAssertEqual(Set(orders.values).count, 4)
    }

    // MARK: Protection, options, determinism

    func testProtectFirstAndLastLimitTheCandidates() throws {
        let (model, cal) = try smol()
        let r = try runPass(LayerPrune(goal: .count(2), criterion: .bi, protectFirst: 3, protectLast: 2), on: model.module,
                            context: context(model, cal))
        XCTAssertEqual(scores(r.module, 1).map(\.block), Array(3...27))
        XCTAssertTrue(removed(r.module).allSatisfy { (3...27).contains($0) })
        XCTAssertEqual(r.module[meta: "decision.0.protect_first"], .int(3))
        XCTAssertEqual(r.module[meta: "decision.0.protect_last"], .int(2))
        // With no protection block 0 is a candidate too.
        let all = try runPass(LayerPrune(goal: .count(1), criterion: .angular, protectFirst: 0, protectLast: 0), on: model.module,
                              context: context(model, cal))
        XCTAssertEqual(scores(all.module, 1).map(\.block), Array(0...29))
    }

    func testBadOptionsAreRejected() throws {
        let (model, cal) = try smol()
        let entry = try XCTUnwrap(PassRegistry.standard.entry(named: "layer-prune"))
        func make(_ values: [String: String]) throws -> any Pass {
            try entry.make(try PassOptions(values, specs: entry.options, pass: "layer-prune"))
        }
        func expectBadOption(_ option: String, _ body: () throws -> Void, line: UInt = #line) {
            XCTAssertThrowsError(try body(), line: line) { error in
                guard case PassError.badOption(let pass, let o, let message) = error else { return XCTFail("\(error)", line: line) }
                XCTAssertEqual(pass, "layer-prune", line: line)
                XCTAssertEqual(o, option, message, line: line)
                XCTAssertTrue(error.localizedDescription.hasPrefix("layer-prune: "), line: line)
            }
        }
        let ctx = context(model, cal)
        expectBadOption("kl-budget") { _ = try make(["count": "2", "kl-budget": "0.1"]) }
        expectBadOption("count") { _ = try make([:]) }
        expectBadOption("criterion") { _ = try make(["count": "2", "criterion": "cosine"]) }
        expectBadOption("criterion") { _ = try make(["remove": "3", "criterion": "bi"]) }
        expectBadOption("remove") { _ = try make(["remove": "3;x"]) }
        expectBadOption("remove") { _ = try make(["remove": "3;3"]) }
        expectBadOption("count") { _ = try make(["count": "0"]) }
        // Checked against the module: 30 blocks, protect 1 + 1 -> 28 candidates.
        expectBadOption("count") { _ = try runPass(try make(["count": "28"]), on: model.module, context: ctx) }
        expectBadOption("kl-budget") {
            _ = try runPass(try make(["kl-budget": "1", "protect-first": "20", "protect-last": "9"]), on: model.module, context: ctx)
        }
        expectBadOption("remove") { _ = try runPass(try make(["remove": "0"]), on: model.module, context: ctx) }
        expectBadOption("remove") { _ = try runPass(try make(["remove": "30"]), on: model.module, context: ctx) }
        // Scoring needs weights and calibration.
        XCTAssertThrowsError(try runPass(try make(["count": "1"]), on: model.module)) { error in
            guard case PassError.needsData(let pass, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(pass, "layer-prune")
        }
        // Well-formed spellings.
        XCTAssertEqual(try LayerPrune.parseBlockList("21;18;9"), [21, 18, 9])
        XCTAssertEqual(try LayerPrune.parseBlockList("[3..5, 9]"), [3, 4, 5, 9])
        XCTAssertEqual((try make(["kl-budget": "0.25", "criterion": "ppl"]) as? LayerPrune)?.goal, .klBudget(0.25))
        XCTAssertEqual((try make(["kl-budget": "0.25", "criterion": "ppl"]) as? LayerPrune)?.criterion, .ppl)
    }

    func testExplicitRemovalNeedsNoWeightsAndMatchesTheSearchResult() throws {
        let (model, _) = try smol()
        let (r, _) = try countTwoRun()
        let gone = removed(r.module)
        // Replaying the decision without scoring gives the same module, records aside.
        let replay = try runPass(LayerPrune(goal: .explicit(gone)), on: model.module)
        XCTAssertEqual(replay.module.function, r.module.function)
        XCTAssertEqual(replay.module.parameters, r.module.parameters)
        XCTAssertEqual(replay.module.blocks, r.module.blocks)
        XCTAssertEqual(replay.module[meta: "decision.0.removed"], r.module[meta: "decision.0.removed"])
        XCTAssertEqual(replay.module[meta: "decision.0.criterion"], .string("explicit"))
    }

    func testSameInputsGiveTheSameDecision() throws {
        let (model, cal) = try smol()
        let a = try runPass(LayerPrune(goal: .count(2), criterion: .angular), on: model.module, context: context(model, cal))
        let b = try runPass(LayerPrune(goal: .count(2), criterion: .angular), on: model.module, context: context(model, cal))
        XCTAssertEqual(removed(a.module).count, 2)
        XCTAssertEqual(printModule(a.module), printModule(b.module))
    }
}
