// The lowering pipeline on both real models: every block fuses, every norm folds, the memory plan reuses space
// without overlapping live values, and the lowered module computes the same logits in the interpreter.
import Foundation
import PareFrontend
import PareIR
import PareInterpreter
import ParePasses
import XCTest

/// Runs the lowering pipeline on a module (verifying after every pass).
func lower(_ m: Module, store: WeightStore) throws -> (module: Module, records: [PassRecord]) {
    let manager = PassManager(passes: try Pipeline(parsing: loweringPipeline).resolve(), verify: true)
    let r = try manager.run(m, context: PassContext(store: store, calibration: nil))
    return (r.module, r.records)
}

/// The largest |a - b| over the largest |a|: a difference relative to the logits' scale.
func relativeDifference(_ a: [Float], _ b: [Float]) -> Double {
    var diff = 0.0, scale = 0.0
    for (x, y) in zip(a, b) {
        diff = max(diff, Double(abs(x - y)))
        scale = max(scale, Double(abs(x)))
    }
    return diff / max(scale, 1e-30)
}

/// The argmax of each row of a [rows, cols] tensor (lowest id on ties).
/// The argmax of each `width`-wide row of a flat row-major buffer (lowest index on ties).
func argmaxRows(_ flat: [Float], width: Int) -> [Int] {
    (0..<flat.count / width).map { r in
        let row = flat[(r * width)..<((r + 1) * width)]
        var best = row.startIndex
        for i in row.indices where row[i] > row[best] { best = i }
        return best - row.startIndex
    }
}

func argmaxRows(_ t: Tensor) -> [Int] {
    (0..<t.rows).map { r in
        let row = t.row(r)
        var best = row.startIndex
        for i in row.indices where row[i] > row[best] { best = i }
        return best - row.startIndex
    }
}

/// Every pair of values live at once whose arena ranges overlap, as "%a/%b" strings; empty when the plan is sound.
/// Independent of plan-memory's own bookkeeping: recomputes liveness from the ops.
func arenaOverlaps(_ m: Module) -> [String] {
    let ops = m.function.ops
    var last: [Value: Int] = [:]
    for (i, op) in ops.enumerated() { for v in op.valueOperands { last[v] = i } }
    last[m.function.result] = ops.count
    var out: [String] = []
    for (i, a) in ops.enumerated() {
        guard let oa = a.int("arena_offset") else { out.append("%\(i) unplanned"); continue }
        let wa = a.type.shape.last?.size ?? 0
        let endA = last[a.result] ?? i
        for j in (i + 1)..<ops.count where j <= endA {
            let b = ops[j]
            guard let ob = b.int("arena_offset") else { continue }
            let wb = b.type.shape.last?.size ?? 0
            if oa < ob + wb && ob < oa + wa { out.append("%\(i)/%\(j)") }
        }
    }
    return out
}

final class LoweringTests: XCTestCase {
    static let prompt = "def quicksort(items):\n    \"\"\"Sort a list.\"\"\"\n    if len(items) <= 1:\n        return items\n"

    func check(_ model: LoadedModel, name: String) throws {
        let (lowered, records) = try lower(model.module, store: model.store)
        let blocks = model.module.blocks.count
        let stats = Dictionary(records.map { ($0.pass, $0.statistics) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(stats["fuse-qkv"]?["attention fused"], "\(blocks)", name)
        XCTAssertEqual(stats["fuse-gate-up"]?["ffn fused"], "\(blocks)", name)
        XCTAssertEqual(stats["fold-norms"]?["norms folded"], "\(2 * blocks + 1)", name)
        XCTAssertEqual(stats["fold-norms"]?["norms left"], "0", name)
        // Per block: qkv_rope, attention_qkv, linear (o), add, swiglu, linear (down), add; plus embed and the head.
        XCTAssertEqual(lowered.function.ops.count, 7 * blocks + 2, name)
        XCTAssertEqual(Set(lowered.function.ops.map(\.kind)), [.embed, .qkvRope, .attentionQKV, .linear, .add, .swiglu], name)
        // Text round trip of the lowered module.
        XCTAssertEqual(try parseModule(printModule(lowered), file: "\(name).pir"), lowered.canonicalized(), name)

        // The memory plan: sound, and smaller than one buffer per value.
        XCTAssertEqual(arenaOverlaps(lowered), [], name)
        let arena = try XCTUnwrap(lowered[meta: PlanMemory.arenaKey]?.intValue)
        let noReuse = try XCTUnwrap(lowered[meta: PlanMemory.noReuseKey]?.intValue)
        // The logits (vocabulary wide) and the head's input are live together; everything else reuses space.
        let vocab = lowered.vocabulary.size
        let widest = lowered.function.ops.dropLast().compactMap { $0.type.shape.last?.size }.max() ?? 0
        XCTAssertLessThan(arena * 2, noReuse, "\(name): arena \(arena) floats/row vs \(noReuse) without reuse")
        XCTAssertLessThanOrEqual(arena, vocab + 16 + 3 * (widest + 16), "\(name): arena \(arena) floats/row")

        // Same logits, to rounding.
        let ids = model.tokenizer.encode(Self.prompt)
        let before = try Interpreter(module: model.module, store: model.store).forward(ids)
        let after = try Interpreter(module: lowered, store: model.store).forward(ids)
        let rel = relativeDifference(before.data, after.data)
        XCTAssertLessThan(rel, 1e-5, "\(name): lowered logits differ by \(rel) of their scale")
        XCTAssertEqual(argmaxRows(before), argmaxRows(after), name)
        print(String(format: "%@: %d ops -> %d, arena %d floats/row (no reuse %d), max logit diff %.2e relative",
                     name, model.module.function.ops.count, lowered.function.ops.count, arena, noReuse, rel))
        model.store.dropViews()
    }

    func testLoweringSmolLM2TiedLlama() throws {
        try check(try RealModels.smol(), name: "SmolLM2")
    }

    func testLoweringQwenBiasedUntied() throws {
        try check(try RealModels.qwen(), name: "Qwen2.5-Coder")
    }

    func testTiedHeadGetsAFoldedCopyAndTheEmbeddingStaysUnscaled() throws {
        let model = try RealModels.smol()
        let (lowered, _) = try lower(model.module, store: model.store)
        let head = try XCTUnwrap(lowered.function.ops.last)
        XCTAssertEqual(head.paramOperands, ["token_embd.weight.folded"])
        XCTAssertEqual(lowered.parameter("token_embd.weight.folded")?.views.last, .scaleCols("output_norm.weight"))
        XCTAssertEqual(lowered.parameter("token_embd.weight")?.views, model.module.parameter("token_embd.weight")?.views)
        XCTAssertEqual(lowered.function.ops.first?.paramOperands, ["token_embd.weight"])
    }

    func testLoweringAPrunedModuleWithGapsInBlockIndices() throws {
        let model = try RealModels.smol()
        // Remove blocks 3 and 17 and shrink every FFN: blocks are no longer 0..<n and dims differ from the config.
        let pruned = try PassManager(passes: try Pipeline(parsing: "layer-prune{remove=3;17},ffn-prune{keep=1000,strategy=top}").resolve())
            .run(model.module, context: PassContext(store: model.store, calibration: nil)).module
        let (lowered, _) = try lower(pruned, store: model.store)
        XCTAssertFalse(lowered.function.ops.contains { $0.block == 3 || $0.block == 17 })
        XCTAssertEqual(lowered.function.ops.filter { $0.kind == .swiglu }.map { $0.type.shape.last?.size }, Array(repeating: 1000, count: 28))
        let ids = model.tokenizer.encode(Self.prompt)
        let before = try Interpreter(module: pruned, store: model.store).forward(ids)
        let after = try Interpreter(module: lowered, store: model.store).forward(ids)
        XCTAssertLessThan(relativeDifference(before.data, after.data), 1e-5)
        model.store.dropViews()
    }

    func testOverlapCheckerCatchesAnOverlap() throws {
        let model = try RealModels.smol()
        var (lowered, _) = try lower(model.module, store: model.store)
        XCTAssertEqual(arenaOverlaps(lowered), [])
        // Put the second op's result where its operand (the embedding) lives: a known-bad plan.
        lowered.function.ops[1].attributes["arena_offset"] = lowered.function.ops[0].attributes["arena_offset"]
        XCTAssertFalse(arenaOverlaps(lowered).isEmpty)
    }
}
