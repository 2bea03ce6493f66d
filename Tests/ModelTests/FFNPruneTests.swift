// ffn-prune on SmolLM2: each strategy keeps the right channels, scorers choose per layer, the pruned module
// verifies, round-trips and runs, pruning equals zeroing the dropped channels, auto picks the lowest KL, bad options.
import Foundation
import PareFrontend
import PareIR
import PareInterpreter
import ParePasses
import XCTest

final class FFNPruneTests: XCTestCase {
    static let code = """
        def fibonacci(n):
            \"\"\"Return the n-th Fibonacci number, iteratively.\"\"\"
            a, b = 0, 1
            for _ in range(n):
                a, b = b, a + b
            return a

        class Stack:
            def __init__(self):
                self.items = []

            def push(self, item):
                self.items.append(item)

            def pop(self):
                if not self.items:
                    raise IndexError("pop from an empty stack")
                return self.items.pop()
        """

    /// SmolLM2 and a calibration set of 2 x 32 tokens of Python.
    func smol() throws -> (LoadedModel, Calibration) {
        let model = try RealModels.smol()
        let ids = model.tokenizer.encode(FFNPruneTests.code)
        XCTAssertGreaterThanOrEqual(ids.count, 64)
        return (model, Calibration(sequences: [Array(ids[0..<32]), Array(ids[32..<64])], origin: "FFNPruneTests, 2 x 32 tokens"))
    }

    func context(_ model: LoadedModel, _ cal: Calibration) -> PassContext { PassContext(store: model.store, calibration: cal) }

    /// Block `b`'s kept channels as the rows view of its gate weight (source rows; nil if unsliced).
    func gateRows(_ m: Module, _ b: Int) -> [Int]? {
        guard case .rows(let k)? = m.parameter("blk.\(b).ffn_gate.weight")?.views.last else { return nil }
        return Array(k)
    }

    /// The recorded kept channels of block `b`.
    func recordedKept(_ m: Module, _ b: Int) -> String? { m[meta: "decision.0.kept.\(b)"]?.stringValue }

    // MARK: Strategies

    func testPositionStrategiesKeepTheRightChannelsWithoutWeights() throws {
        let m = try RealModels.smol().module
        let expected: [(FFNPrune.Strategy, [Int])] = [(.top, Array(0..<1000)), (.bottom, Array(536..<1536)), (.middle, Array(268..<1268))]
        for (s, keep) in expected {
            // A structural context: the position rules need neither weights nor calibration.
            let r = try runPass(FFNPrune(.keep(1000), strategy: s), on: m)
            let p = r.module
            XCTAssertEqual(r.statistics["strategy"], .string(s.rawValue))
            for b in 0..<30 {
                XCTAssertEqual(gateRows(p, b), keep, "\(s) block \(b)")
                XCTAssertEqual(p.parameter("blk.\(b).ffn_up.weight")?.views, [.rows(IndexList(keep))])
                XCTAssertEqual(p.parameter("blk.\(b).ffn_down.weight")?.views, [.cols(IndexList(keep))])
                XCTAssertEqual(p.parameter("blk.\(b).ffn_down.weight")?.shape, [576, 1000])
                XCTAssertEqual(p.block(b)?.ffn, 1000)
                XCTAssertEqual(recordedKept(p, b), IndexList(keep).description)
            }
            XCTAssertEqual(p.function.ops.filter { $0.kind == .mul }.map(\.type), Array(repeating: .activations(1000), count: 30))
            XCTAssertEqual(r.statistics["parameters removed"], .int(30 * 536 * 576 * 3))
        }
    }

    func testRandomIsSeededReproducibleAndDrawnPerBlock() throws {
        let m = try RealModels.smol().module
        let a = try runPass(FFNPrune(.drop(256), strategy: .random, seed: 0), on: m).module
        let again = try runPass(FFNPrune(.drop(256), strategy: .random, seed: 0), on: m).module
        let other = try runPass(FFNPrune(.drop(256), strategy: .random, seed: 1), on: m).module
        XCTAssertEqual(printModule(a), printModule(again), "the same seed must give the same module")
        XCTAssertEqual(a[meta: "decision.0.seed"], .int(0))
        var differsBySeed = 0
        for b in 0..<30 {
            let k = try XCTUnwrap(gateRows(a, b))
            XCTAssertEqual(k.count, 1280)
            XCTAssertEqual(k, k.sorted())
            XCTAssertEqual(Set(k).count, 1280)
            XCTAssertTrue(k.allSatisfy { (0..<1536).contains($0) })
            if gateRows(other, b) != k { differsBySeed += 1 }
        }
        XCTAssertEqual(differsBySeed, 30, "seed 1 should draw other channels than seed 0 in every block")
        XCTAssertEqual(Set((0..<30).map { gateRows(a, $0) ?? [] }).count, 30, "each block draws its own channels")
        // Not a position heuristic in disguise: both ends and the middle lose channels.
        let dropped = Set(0..<1536).subtracting(try XCTUnwrap(gateRows(a, 0)))
        XCTAssertTrue(dropped.contains { $0 < 512 } && dropped.contains { $0 >= 1024 } && dropped.contains { (512..<1024).contains($0) })
    }

    func testScorersChooseDifferentChannelsInDifferentLayers() throws {
        let (model, cal) = try smol()
        let ctx = context(model, cal)
        let m = model.module
        var byStrategy: [FFNPrune.Strategy: Module] = [:]
        for s in [FFNPrune.Strategy.magnitude, .activation] {
            let p = try runPass(FFNPrune(.drop(256), strategy: s), on: m, context: ctx).module
            byStrategy[s] = p
            let sets = (0..<30).map { gateRows(p, $0) ?? [] }
            XCTAssertTrue(sets.allSatisfy { $0.count == 1280 })
            // The public code's mistake is the same positions in every layer; per-layer scores must differ.
            XCTAssertGreaterThanOrEqual(Set(sets).count, 2, "\(s): every layer kept the same channels")
            XCTAssertGreaterThanOrEqual(Set(sets).count, 25, "\(s): only \(Set(sets).count) distinct kept sets in 30 layers")
            XCTAssertNotEqual(sets[0], Array(0..<1280))
        }
        XCTAssertNotEqual(gateRows(byStrategy[.magnitude]!, 5), gateRows(byStrategy[.activation]!, 5), "two criteria, one choice")

        // The slicing keeps exactly the highest-scoring channels: every dropped score <= every kept score.
        let scores = try MagnitudeNeuronScorer().scores(m, context: ctx)
        for b in [0, 13, 29] {
            let kept = Set(try XCTUnwrap(gateRows(byStrategy[.magnitude]!, b)))
            let sc = try XCTUnwrap(scores[b])
            let minKept = kept.map { sc[$0] }.min()!, maxDropped = (0..<1536).filter { !kept.contains($0) }.map { sc[$0] }.max()!
            XCTAssertLessThanOrEqual(maxDropped, minKept, "block \(b)")
        }
        // The magnitude score is ‖gate_i ⊙ γ‖·‖up_i ⊙ γ‖·‖down_:,i‖ (γ: the FFN's input norm weight), checked
        // directly on block 7, channel 100.
        let w = try model.store.weights(for: m)
        let gate = try XCTUnwrap(w["blk.7.ffn_gate.weight"]), up = try XCTUnwrap(w["blk.7.ffn_up.weight"])
        let down = try XCTUnwrap(w["blk.7.ffn_down.weight"]), gamma = try XCTUnwrap(w["blk.7.ffn_norm.weight"])
        func norm(_ xs: [Float]) -> Double { xs.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }
        let direct = norm(zip(gate.row(100), gamma.data).map { $0 * $1 }) * norm(zip(up.row(100), gamma.data).map { $0 * $1 })
            * norm((0..<576).map { down.data[$0 * 1536 + 100] })
        XCTAssertEqual(scores[7]![100], direct, accuracy: direct * 1e-9)
    }

    // MARK: The pruned module

    func testPrunedModuleVerifiesRoundTripsAndRuns() throws {
        let (model, cal) = try smol()
        let r = try runPass(FFNPrune(.drop(256), strategy: .magnitude), on: model.module, context: context(model, cal))
        let p = r.module
        XCTAssertEqual(verify(p), [])
        XCTAssertEqual(r.statistics["ffn before"], .string("1536 x 30"))
        XCTAssertEqual(r.statistics["ffn after"], .string("1280 x 30"))
        XCTAssertEqual(r.statistics["channels removed"], .int(30 * 256))
        XCTAssertEqual(r.statistics["parameters removed"], .int(30 * 256 * 576 * 3))
        XCTAssertEqual(model.module.parameterCount - p.parameterCount, 30 * 256 * 576 * 3)

        let text = printModule(p)
        let parsed = try parseModule(text, file: "pruned.pir")
        XCTAssertEqual(parsed, p, "parse(print(m)) != m")
        XCTAssertEqual(printModule(parsed), text)
        XCTAssertTrue(text.contains("decision.0.kept.0 = \"["))

        let logits = try Interpreter(module: parsed, store: model.store).forward(cal.sequences[0])
        XCTAssertEqual(logits.shape, [32, 49152])
        XCTAssertTrue(logits.data.allSatisfy(\.isFinite))
    }

    func testKeepingEveryChannelGivesIdenticalLogits() throws {
        let (model, cal) = try smol()
        let m = model.module
        let r = try runPass(FFNPrune(.keep(1536), strategy: .activation), on: m, context: context(model, cal))
        XCTAssertEqual(r.module.parameters, m.parameters)
        XCTAssertEqual(r.module.blocks, m.blocks)
        XCTAssertEqual(r.module.function, m.function)
        XCTAssertEqual(r.statistics["parameters removed"], .int(0))
        let a = try Interpreter(module: m, store: model.store).forward(cal.sequences[1])
        let b = try Interpreter(module: r.module, store: model.store).forward(cal.sequences[1])
        XCTAssertEqual(a.data, b.data)
    }

    /// Pruning channels equals running the dense model with those channels' down columns zeroed (their
    /// contribution removed), computed independently of the slicing: dense weights, columns set to 0 by hand.
    func testPruningEqualsZeroingTheDroppedChannels() throws {
        let (model, cal) = try smol()
        let dense = model.module
        let pruned = try runPass(FFNPrune(.drop(384), strategy: .random, seed: 3), on: dense).module
        var weights = try model.store.weights(for: dense)
        for b in 0..<30 {
            let kept = Set(try XCTUnwrap(gateRows(pruned, b)))
            var down = try XCTUnwrap(weights["blk.\(b).ffn_down.weight"])   // [576, 1536]
            XCTAssertEqual(down.shape, [576, 1536])
            for c in 0..<1536 where !kept.contains(c) { for r in 0..<576 { down.data[r * 1536 + c] = 0 } }
            weights["blk.\(b).ffn_down.weight"] = down
        }
        let tokens = cal.sequences[0]
        let zeroed = try Interpreter(module: dense, weights: weights).forward(tokens)
        let sliced = try Interpreter(module: pruned, store: model.store).forward(tokens)
        let original = try Interpreter(module: dense, store: model.store).forward(tokens)
        func maxDiff(_ a: Tensor, _ b: Tensor) -> Float { zip(a.data, b.data).map { abs($0 - $1) }.max() ?? .infinity }
        let scale = original.data.map(abs).max() ?? 1
        let tolerance = 1e-4 * scale
        let diff = maxDiff(sliced, zeroed), effect = maxDiff(original, zeroed)
        print(String(format: "ffn-prune vs zeroed channels: max diff %.3g, tolerance %.3g, %@ (pruning moved logits by %.3g)",
                     diff, tolerance, diff <= tolerance ? "OK" : "NOT OK", effect))
        XCTAssertLessThanOrEqual(diff, tolerance)
        XCTAssertGreaterThan(effect, 100 * tolerance, "the check must be able to fail: dropping channels changes the logits")
    }

    func testAutoKeepsTheStrategyWithTheLowestKL() throws {
        let (model, cal) = try smol()
        let ctx = context(model, cal)
        let m = model.module
        let r = try runPass(FFNPrune(.drop(256)), on: m, context: ctx)
        var kls: [String: Double] = [:]
        for s in FFNPrune.Strategy.candidates {
            let text = try XCTUnwrap(r.module[meta: "decision.0.auto.kl.\(s.rawValue)"]?.stringValue, "no KL recorded for \(s)")
            kls[s.rawValue] = try XCTUnwrap(Double(text))
            XCTAssertEqual(r.statistics["kl.\(s.rawValue)"]?.doubleValue ?? -1, kls[s.rawValue]!, accuracy: kls[s.rawValue]! * 1e-5 + 1e-12)
            XCTAssertGreaterThan(kls[s.rawValue]!, 0)
        }
        let best = kls.min { $0.value < $1.value }!.key
        XCTAssertEqual(r.module[meta: "decision.0.strategy"], .string(best))
        XCTAssertEqual(r.statistics["strategy"], .string(best))
        print("ffn-prune auto on SmolLM2 (drop=256, 2 x 32 tokens): " + FFNPrune.Strategy.candidates.map { "\($0.rawValue) \(kls[$0.rawValue]!)" }.joined(separator: ", ") + " -> \(best)")

        // The chosen channels are those the strategy alone picks, and the recorded KL is the KL the module has.
        let alone = try runPass(FFNPrune(.drop(256), strategy: FFNPrune.Strategy(rawValue: best)!), on: m, context: ctx).module
        XCTAssertEqual(alone.parameters, r.module.parameters)
        let measured = try ctx.kl(before: m, after: r.module).mean
        XCTAssertEqual(measured, kls[best]!, accuracy: measured * 1e-4)
    }

    func testActivationScorerReturnsTheModulesLogits() throws {
        let (model, cal) = try smol()
        let (scores, logits) = try ActivationNeuronScorer().scoresAndLogits(model.module, context: context(model, cal))
        XCTAssertEqual(scores.count, 30)
        XCTAssertTrue(scores.values.allSatisfy { $0.count == 1536 && $0.allSatisfy { $0 >= 0 && $0.isFinite } })
        XCTAssertEqual(logits.count, 2)
        XCTAssertEqual(logits[1].data, try Interpreter(module: model.module, store: model.store).forward(cal.sequences[1]).data)
    }

    // MARK: Composition and options

    func testPruningTwiceComposesIntoOneViewInSourceTerms() throws {
        let m = try RealModels.smol().module
        let once = try runPass(FFNPrune(.keep(1024), strategy: .top), on: m).module
        let twice = try runPass(FFNPrune(.keep(512), strategy: .bottom), on: once).module
        XCTAssertEqual(twice.parameter("blk.4.ffn_gate.weight")?.views, [.rows(IndexList(Array(512..<1024)))])
        XCTAssertEqual(twice.parameter("blk.4.ffn_down.weight")?.views, [.cols(IndexList(Array(512..<1024)))])
        XCTAssertEqual(verify(twice), [])
        // The same parameters as slicing source channels 512..<1024 in one step.
        var direct = Rewriter(m)
        try FFNPrune.slice(&direct, anatomy: try m.blockAnatomy(),
                           kept: Dictionary(uniqueKeysWithValues: (0..<30).map { ($0, IndexList(Array(512..<1024))) }))
        XCTAssertEqual(twice.parameters, direct.module.parameters)
        XCTAssertEqual(twice.blocks, direct.module.blocks)
        XCTAssertEqual(twice.function, direct.module.function)
        XCTAssertEqual(FFNPrune.composing([.unpermuteRoPE(heads: 2)], .rows([1])), [.unpermuteRoPE(heads: 2), .rows([1])])
        XCTAssertEqual(FFNPrune.composing([.rows([3, 5, 7])], .cols([0])), [.rows([3, 5, 7]), .cols([0])])
    }

    func testBadOptionsAreRejectedNamingTheOption() throws {
        let entry = try XCTUnwrap(PassRegistry.standard.entry(named: "ffn-prune"))
        func make(_ values: [String: String]) throws -> any Pass {
            try entry.make(try PassOptions(values, specs: entry.options, pass: "ffn-prune"))
        }
        func expectBadOption(_ values: [String: String], _ option: String, _ text: String, line: UInt = #line) {
            XCTAssertThrowsError(try make(values), line: line) { e in
                guard case PassError.badOption(_, let o, let msg) = e else { return XCTFail("\(e)", line: line) }
                XCTAssertEqual(o, option, line: line)
                XCTAssertTrue(msg.contains(text), msg, line: line)
            }
        }
        expectBadOption(["drop": "4", "keep": "8"], "keep", "not both")
        expectBadOption([:], "drop", "drop=N")
        expectBadOption(["drop": "0"], "drop", "must be in 1...")
        expectBadOption(["keep": "-3"], "keep", "must be in 1...")
        expectBadOption(["drop": "4", "strategy": "largest"], "strategy", "top|bottom|middle|random|magnitude|activation|auto")
        expectBadOption(["drop": "4", "seed": "x"], "seed", "integer")
        let ok = try XCTUnwrap(make(["drop": "4"]) as? FFNPrune)
        XCTAssertEqual(ok.strategy, .auto, "auto is the default")
        XCTAssertEqual(ok.seed, 0)

        // Widths are checked per block when the pass runs.
        let m = try RealModels.smol().module
        for (pass, option, text) in [(FFNPrune(.drop(1536), strategy: .top), "drop", "at most 1535"),
                                     (FFNPrune(.keep(1537), strategy: .top), "keep", "1...1536")] {
            XCTAssertThrowsError(try runPass(pass, on: m)) { e in
                guard case PassError.badOption(_, let o, let msg) = e else { return XCTFail("\(e)") }
                XCTAssertEqual(o, option)
                XCTAssertTrue(msg.contains(text) && msg.contains("block 0"), msg)
            }
        }
        // After a prune, blocks are narrower: drop=100 cannot run on 100 channels.
        let narrow = try runPass(FFNPrune(.keep(100), strategy: .top), on: m).module
        XCTAssertThrowsError(try runPass(FFNPrune(.drop(100), strategy: .top), on: narrow))
        // Scorers need data; a structural context is refused with the data named.
        for s in [FFNPrune.Strategy.magnitude, .activation, .auto] {
            XCTAssertThrowsError(try runPass(FFNPrune(.drop(4), strategy: s), on: m)) { e in
                guard case PassError.needsData = e else { return XCTFail("\(s): \(e)") }
            }
        }
        let (model, _) = try smol()
        XCTAssertThrowsError(try runPass(FFNPrune(.drop(4), strategy: .activation), on: m, context: PassContext(store: model.store))) { e in
            XCTAssertTrue(e.localizedDescription.contains("calibration"), e.localizedDescription)
        }
    }
}
