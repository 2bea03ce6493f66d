// The lowering pipeline on the tiny models with random weights: the interpreter computes the same logits before
// and after (whole sequences and with a KV cache), the memory plan is sound, dce keeps the parameters packed views
// read, and the rewriter refuses to remove a parameter another parameter's view reads.
import Foundation
import XCTest
import PareIR
import PareInterpreter
import ParePasses

/// Deterministic pseudo-random weights for any source tensor, seeded by the tensor's name: norm weights (`*norm*`)
/// in [0.5, 1.5], so folding them is visible; everything else in [-0.5, 0.5].
final class RandomWeights: SourceTensorProvider {
    func sourceTensor(_ source: TensorSource) throws -> Tensor {
        var state: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a over the name, then splitmix64.
        for b in source.tensor.utf8 { state = (state ^ UInt64(b)) &* 0x100_0000_01b3 }
        func next() -> Float {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            z ^= z >> 31
            return Float(z >> 40) / Float(1 << 24)  // [0, 1)
        }
        let norm = source.tensor.contains("norm")
        let n = source.shape.reduce(1, *)
        return Tensor(shape: source.shape, data: (0..<n).map { _ in norm ? 0.5 + next() : next() - 0.5 })
    }
}

/// `max |a - b| / max |a|`: the difference relative to the reference's scale.
func relativeError(_ a: Tensor, _ b: Tensor) -> Double {
    guard a.shape == b.shape else { return .infinity }
    var diff = 0.0, scale = 0.0
    for (x, y) in zip(a.data, b.data) {
        diff = max(diff, Double(abs(x - y)))
        scale = max(scale, Double(abs(x)))
    }
    return diff / max(scale, 1e-30)
}

/// Every way `m`'s memory plan is unsound, recomputed from the ops (not from plan-memory's bookkeeping): an op
/// without an offset, a negative or unaligned one, an op whose buffer overlaps a value still live when it is
/// written (its operands included), or an arena size in metadata smaller than some buffer's end.
func memoryPlanProblems(_ m: Module) -> [String] {
    let ops = m.function.ops
    var last: [Value: Int] = [:]
    for (i, op) in ops.enumerated() { for v in op.valueOperands { last[v] = i } }
    last[m.function.result] = ops.count
    func span(_ op: Op) -> Range<Int>? {
        guard let o = op.int("arena_offset"), let w = op.type.shape.last?.size else { return nil }
        return o..<(o + w)
    }
    var problems: [String] = []
    let arena = m[meta: PlanMemory.arenaKey]?.intValue ?? 0
    for (i, op) in ops.enumerated() {
        guard let s = span(op), s.lowerBound >= 0, s.lowerBound % PlanMemory.alignment == 0 else {
            problems.append("%\(i): bad or missing arena_offset")
            continue
        }
        if s.upperBound > arena { problems.append("%\(i): ends at \(s.upperBound), past the arena (\(arena))") }
        // Values defined before op i and still read at or after it (its operands are read at i).
        for j in 0..<i where (last[ops[j].result] ?? j) >= i {
            if let t = span(ops[j]), t.overlaps(s) { problems.append("%\(i) overlaps live %\(j)") }
        }
    }
    return problems
}

final class IRLoweringTests: XCTestCase {
    static let tokens = [1, 5, 3, 7, 2, 9, 0, 4, 8, 6, 3, 3]

    /// The module after the lowering pipeline, verified after every pass, with each pass's statistics.
    func lower(_ m: Module, pipeline: String = loweringPipeline) throws -> (module: Module, stats: [String: [String: String]], records: [PassRecord]) {
        let manager = PassManager(passes: try Pipeline(parsing: pipeline).resolve())
        let r = try manager.run(m, context: .structural)
        return (r.module, Dictionary(r.records.map { ($0.pass, $0.statistics) }, uniquingKeysWith: { a, _ in a }), r.records)
    }

    func logits(_ m: Module, _ store: WeightStore, _ tokens: [Int] = tokens) throws -> Tensor {
        try Interpreter(module: m, store: store).forward(tokens)
    }

    /// Lowers `m`, checks the pipeline's statistics and the lowered form, and compares logits within 1e-5.
    func checkParity(_ m: Module, name: String, copied: Int) throws {
        let store = WeightStore(provider: RandomWeights())
        let (lowered, stats, _) = try lower(m)
        let blocks = m.blocks.count
        XCTAssertEqual(stats["fuse-qkv"]?["attention fused"], "\(blocks)", name)
        XCTAssertEqual(stats["fuse-gate-up"]?["ffn fused"], "\(blocks)", name)
        XCTAssertEqual(stats["fold-norms"]?["norms folded"], "\(2 * blocks + 1)", name)
        XCTAssertEqual(stats["fold-norms"]?["weights copied"], "\(copied)", name)
        XCTAssertEqual(Set(lowered.function.ops.map(\.kind)), [.embed, .qkvRope, .attentionQKV, .linear, .add, .swiglu], name)
        XCTAssertEqual(lowered.function.ops.count, 7 * blocks + 2, name)
        XCTAssertEqual(memoryPlanProblems(lowered), [], name)
        XCTAssertEqual(try parseModule(printModule(lowered), file: "\(name).pir"), lowered.canonicalized(), name)

        let before = try logits(m, store), after = try logits(lowered, store)
        let err = relativeError(before, after)
        print("\(name): lowered logits max relative difference \(err) (tolerance 1e-5) \(err <= 1e-5 ? "OK" : "NOT OK")")
        XCTAssertLessThanOrEqual(err, 1e-5, name)
        XCTAssertGreaterThan(before.data.map(abs).max() ?? 0, 0.1, "\(name): logits are not trivially small")

        // Incremental decoding: the lowered module's attention_qkv appends to the cache and qkv_rope rotates at the
        // cached positions, like the full forward of the module before lowering.
        let interp = try Interpreter(module: lowered, store: store)
        var cache = interp.makeCache()
        let split = 5
        let head = try interp.forward(Array(Self.tokens[..<split]), cache: &cache)
        var rows = head.data
        for t in Self.tokens[split...] { rows += try interp.forward([t], cache: &cache).data }
        let stepped = Tensor(shape: before.shape, data: rows)
        let stepErr = relativeError(before, stepped)
        print("\(name): lowered, decoded with a KV cache: max relative difference \(stepErr) \(stepErr <= 1e-5 ? "OK" : "NOT OK")")
        XCTAssertLessThanOrEqual(stepErr, 1e-5, name)
    }

    func testLoweredLlamaTiedComputesTheSameLogits() throws {
        try checkParity(tinyModule(blocks: 2, tied: true), name: "llama tied", copied: 1)
    }

    func testLoweredLlamaUntiedComputesTheSameLogits() throws {
        try checkParity(tinyModule(blocks: 2, tied: false), name: "llama", copied: 0)
    }

    func testLoweredQwen2WithBiasesComputesTheSameLogits() throws {
        try checkParity(tinyModule(blocks: 2, tied: true, qkvBias: true), name: "qwen2 tied", copied: 1)
        try checkParity(tinyModule(blocks: 3, tied: false, qkvBias: true), name: "qwen2", copied: 0)
    }

    /// The parity check is not blind: deliberately wrong lowerings fail it.
    func testParityCheckCatchesBrokenLowerings() throws {
        let m = tinyModule(blocks: 2, tied: true, qkvBias: true)
        let store = WeightStore(provider: RandomWeights())
        let (lowered, _, _) = try lower(m)
        let reference = try logits(m, store)
        XCTAssertLessThanOrEqual(relativeError(reference, try logits(lowered, store)), 1e-5)

        func broken(_ what: String, _ change: (inout Module) throws -> Void) throws {
            var bad = lowered
            try change(&bad)
            XCTAssertEqual(verify(bad).filter { $0.severity == .error }, [], "\(what): still valid IR")
            let err = relativeError(reference, try logits(bad, store))
            XCTAssertGreaterThan(err, 1e-3, "\(what) must change the logits")
        }
        // k and v rows swapped in the packed weight (both are [4, 8], so the shapes still check).
        try broken("k/v swapped") { bad in
            let i = try XCTUnwrap(bad.parameters.firstIndex { $0.name == "blk.1.attn_qkv.weight" })
            bad.parameters[i].views = bad.parameters[i].views.map {
                guard case .appendRows(let p, let n) = $0 else { return $0 }
                return .appendRows(p.replacingOccurrences(of: "attn_k", with: "TMP").replacingOccurrences(of: "attn_v", with: "attn_k")
                    .replacingOccurrences(of: "TMP", with: "attn_v"), rows: n)
            }
        }
        // A folded norm without its normalisation.
        try broken("eps dropped") { bad in
            let i = try XCTUnwrap(bad.function.ops.firstIndex { $0.kind == .swiglu })
            bad.function.ops[i].attributes["eps"] = nil
        }
        // The tied table scaled in place (embed would read the scaled table too).
        try broken("tied table scaled") { bad in
            let i = try XCTUnwrap(bad.parameters.firstIndex { $0.name == "token_embd.weight" })
            bad.parameters[i].views.append(.scaleCols("output_norm.weight"))
        }
        // The memory-plan checker flags a plan where two live values share space.
        var overlapping = lowered
        let add = try XCTUnwrap(overlapping.function.ops.firstIndex { $0.kind == .add })
        overlapping.function.ops[add].attributes["arena_offset"] = overlapping.function.ops[add - 1].attributes["arena_offset"]
        XCTAssertFalse(memoryPlanProblems(overlapping).isEmpty, "an add writing over its own operand is caught")
    }

    /// dce after the fusions and folding (the lowering pipeline runs it before plan-memory): the parameters packed
    /// views read (k, v, up, their biases, the folded norms' weights) stay although no op reads them; only the first
    /// parts (q, q's bias, gate), which the packed parameters copy rather than read, go. Logits are unchanged.
    func testDCEAfterLoweringKeepsWhatPackedViewsRead() throws {
        let m = tinyModule(blocks: 2, tied: true, qkvBias: true)
        let store = WeightStore(provider: RandomWeights())
        let (lowered, _, _) = try lower(m, pipeline: "fuse-qkv,fuse-gate-up,fold-norms")
        let r = try runPass(DeadCodeElimination(), on: lowered)
        XCTAssertEqual(r.statistics["ops erased"], .int(0))
        let erased = Set(lowered.parameters.map(\.name)).subtracting(r.module.parameters.map(\.name))
        XCTAssertEqual(erased, ["blk.0.attn_q.weight", "blk.0.attn_q.bias", "blk.0.ffn_gate.weight",
                                "blk.1.attn_q.weight", "blk.1.attn_q.bias", "blk.1.ffn_gate.weight"])
        XCTAssertEqual(r.statistics["parameters erased"], .int(erased.count))
        for name in ["blk.0.attn_k.weight", "blk.0.attn_v.bias", "blk.1.ffn_up.weight", "blk.0.attn_norm.weight", "output_norm.weight"] {
            XCTAssertNotNil(r.module.parameter(name), "@\(name) is read by a packed parameter's view")
            XCTAssertTrue(r.module.function.ops.allSatisfy { !$0.paramOperands.contains(name) }, "no op reads @\(name)")
        }
        XCTAssertLessThanOrEqual(relativeError(try logits(m, store), try logits(r.module, store)), 1e-5)

        // Run again: nothing more goes.
        let again = try runPass(DeadCodeElimination(), on: r.module)
        XCTAssertFalse(again.changed)
    }

    /// A bypassed lowered block: dce erases its ops, its packed parameters, and the parts only those read. The packed
    /// parameters are declared after their parts, so dce must not remove a part while its (dead) packed reader is
    /// still declared.
    func testDCEAfterBypassingALoweredBlockErasesItsPackedWeightsAndTheirParts() throws {
        let (lowered, _, _) = try lower(tinyModule(blocks: 2, tied: false))
        var rw = Rewriter(try runPass(DeadCodeElimination(), on: lowered).module)
        let block1 = rw.ops.filter { $0.block == 1 }
        let input = try XCTUnwrap(block1.first?.valueOperands.first), output = try XCTUnwrap(block1.last?.result)
        rw.replaceAllUses(of: output, with: input)
        let stats = try DeadCodeElimination().run(&rw, context: .structural)
        rw.setBlocks(rw.module.blocks.filter { $0.index != 1 })
        XCTAssertEqual(stats["ops erased"], .int(7))
        // attn_norm, k, v, o, ffn_norm, up, down, and the packed qkv and gate_up.
        XCTAssertEqual(stats["parameters erased"], .int(9))
        XCTAssertFalse(rw.module.parameters.contains { $0.name.hasPrefix("blk.1.") })
        XCTAssertNotNil(rw.module.parameter("blk.0.attn_k.weight"))
        XCTAssertEqual(verify(rw.module).filter { $0.severity == .error }, [])
    }

    /// fuse-qkv must not change what the module computes when the ropes split q and k into other heads than the
    /// attention does (valid IR for ops outside blocks, where the block dims do not pin rope's heads/head_dim).
    func testFuseQKVKeepsTheMeaningWhenRopeHeadsDifferFromAttention() throws {
        var m = tinyModule(blocks: 1)
        for i in m.function.ops.indices where m.function.ops[i].kind == .rope || m.function.ops[i].kind == .attention {
            m.function.ops[i].block = nil
            if m.function.ops[i].kind == .rope, let heads = m.function.ops[i].int("heads") {
                m.function.ops[i].attributes["heads"] = .int(2 * heads)
                m.function.ops[i].attributes["head_dim"] = .int(Tiny.headDim / 2)
            }
        }
        XCTAssertEqual(verify(m), [], "ropes with head_dim 2 under an attention with head_dim 4, outside blocks")
        let store = WeightStore(provider: RandomWeights())
        let r = try runPass(FuseQKV(), on: m)
        let err = relativeError(try logits(m, store), try logits(r.module, store))
        XCTAssertLessThanOrEqual(err, 1e-5, "fuse-qkv (\(r.statistics)) changed the logits by \(err)")
    }

    func testRemoveParameterRefusesWhileAViewReadsIt() throws {
        var m = tinyModule(blocks: 1)
        let src = { (n: String, shape: [Int]) in TensorSource(tensor: n, encoding: "f32", shape: shape) }
        m.parameters.append(Parameter(name: "part.weight", shape: [4, 8], source: src("part.weight", [4, 8])))
        m.parameters.append(Parameter(name: "packed.weight", shape: [8, 8], source: src("packed.weight", [4, 8]),
                                      views: [.appendRows("part.weight", rows: 4)]))
        XCTAssertEqual(verify(m), [])
        var r = Rewriter(m)
        XCTAssertThrowsError(try r.removeParameter("part.weight")) { error in
            XCTAssertEqual(error as? RewriteError, .parameterStillUsed("part.weight", users: 1))
        }
        XCTAssertFalse(r.changed)
        XCTAssertNotNil(r.module.parameter("part.weight"))
        try r.removeParameter("packed.weight")
        try r.removeParameter("part.weight")
        XCTAssertNil(r.module.parameter("part.weight"))
        XCTAssertEqual(verify(r.module), [])

        // After lowering: a part of a packed weight and a folded norm's weight are read only through views.
        let (lowered, _, _) = try lower(tinyModule(blocks: 1))
        var l = Rewriter(lowered)
        for name in ["blk.0.attn_k.weight", "blk.0.ffn_norm.weight"] {
            XCTAssertTrue(l.users(ofParameter: name).isEmpty)
            XCTAssertThrowsError(try l.removeParameter(name), name) { error in
                XCTAssertEqual(error as? RewriteError, .parameterStillUsed(name, users: 1))
            }
        }
        XCTAssertFalse(l.changed)
    }

    /// The golden folders of the lowering passes (run by IRGoldenTests) exist, run the pass they are named after, and
    /// have positive and `dont_*` cases.
    func testLoweringGoldenFolders() throws {
        let files = try GoldenRunner.allFiles().map { GoldenFile(name: $0.0, text: $0.1) }
        for pass in ["fuse-qkv", "fuse-gate-up", "fold-norms", "plan-memory"] {
            let here = files.filter { $0.name.hasPrefix(pass + "/") }
            XCTAssertEqual(Set(here.map { $0.action ?? "" }), [pass], "\(pass)/ files run \(pass)")
            let negative = here.filter { $0.name.hasPrefix(pass + "/dont_") }.count
            XCTAssertGreaterThanOrEqual(here.count - negative, 2, "\(pass)/ has positive cases")
            if pass != "plan-memory" { XCTAssertGreaterThanOrEqual(negative, 2, "\(pass)/ has dont_* cases") }
        }
        for name in ["roundtrip/lowered.pir", "verifier/lowered_ops.pir", "verifier/lowered_params.pir"] {
            XCTAssertTrue(files.contains { $0.name == name }, name)
        }
    }

    /// The whole pipeline on the two-block tiny llama, checked like a golden file (the golden harness runs one
    /// pass per file).
    func testPipelineGolden() throws {
        let (lowered, _, records) = try lower(tinyModule(blocks: 2, tied: true))
        let output = records.map { "// \($0.spelling): \($0.statisticsSummary)\n" }.joined() + printModule(lowered)
        let checks = """
            // CHECK: // fuse-qkv: attention fused = 2, attention left = 0
            // CHECK-NEXT: // fuse-gate-up: ffn fused = 2, ffn left = 0
            // CHECK-NEXT: // fold-norms: norms folded = 5, norms left = 0, weights copied = 1
            // CHECK-NEXT: // dce: ops erased = 0, parameters erased = 4, kv slots renumbered = 0
            // CHECK-NEXT: // plan-memory: buffers = 16, arena floats per row = 48, floats per row without reuse = 162, saved = 70.4%
            // CHECK: rope.theta = 10000.0
            // CHECK-NEXT: memory.arena_row_floats = 48
            // CHECK-NEXT: memory.no_reuse_row_floats = 162
            // CHECK: param @token_embd.weight : tensor<10x8xf32> = load "token_embd.weight" q8_0 [10, 8]{{$}}
            // CHECK: param @blk.1.attn_qkv.weight : tensor<16x8xf32> = load "blk.1.attn_q.weight" q4_1 [8, 8] | unpermute_rope(heads = 2) | append_rows(@blk.1.attn_k.weight, rows = 4) | append_rows(@blk.1.attn_v.weight, rows = 4) | scale_cols(@blk.1.attn_norm.weight)
            // CHECK: param @blk.1.ffn_gate_up.weight : tensor<32x8xf32> = load "blk.1.ffn_gate.weight" q4_k [16, 8] | append_rows(@blk.1.ffn_up.weight, rows = 16) | scale_cols(@blk.1.ffn_norm.weight)
            // CHECK-NEXT: param @token_embd.weight.folded : tensor<10x8xf32> = load "token_embd.weight" q8_0 [10, 8] | scale_cols(@output_norm.weight)
            // CHECK: %0 = embed @token_embd.weight, %tokens {arena_offset = 0} : tensor<?x8xf32>
            // CHECK-NEXT: %1 = qkv_rope %0, @blk.0.attn_qkv.weight {arena_offset = 16, eps = 1e-05, head_dim = 4, heads = 2, kv_heads = 1, theta = 10000.0} block 0 : tensor<?x16xf32>
            // CHECK-NEXT: %2 = attention_qkv %1 {arena_offset = 32, head_dim = 4, heads = 2, kv_heads = 1, kv_slot = 0} block 0 : tensor<?x8xf32>
            // CHECK-NEXT: %3 = linear %2, @blk.0.attn_output.weight {arena_offset = 16} block 0 : tensor<?x8xf32>
            // CHECK-NEXT: %4 = add %0, %3 {arena_offset = 32} block 0 : tensor<?x8xf32>
            // CHECK-NEXT: %5 = swiglu %4, @blk.0.ffn_gate_up.weight {arena_offset = 0, eps = 1e-05} block 0 : tensor<?x16xf32>
            // CHECK-NEXT: %6 = linear %5, @blk.0.ffn_down.weight {arena_offset = 16} block 0 : tensor<?x8xf32>
            // CHECK-NEXT: %7 = add %4, %6 {arena_offset = 0} block 0 : tensor<?x8xf32>
            // CHECK-NEXT: %8 = qkv_rope %7, @blk.1.attn_qkv.weight {arena_offset = 16, eps = 1e-05, {{.*}}} block 1 : tensor<?x16xf32>
            // CHECK-NEXT: %9 = attention_qkv %8 {arena_offset = 32, head_dim = 4, heads = 2, kv_heads = 1, kv_slot = 1} block 1 : tensor<?x8xf32>
            // CHECK: %14 = add %11, %13 {arena_offset = 0} block 1 : tensor<?x8xf32>
            // CHECK-NEXT: %15 = linear %14, @token_embd.weight.folded {arena_offset = 16, eps = 1e-05} : tensor<?x10xf32>
            // CHECK-NEXT: return %15
            """
        let failures = FileCheck(checks: checks, file: "lowering-pipeline").run(on: output)
        XCTAssertTrue(failures.isEmpty, "\n" + failures.joined(separator: "\n") + "\n\noutput:\n" + output)
        let text = printModule(lowered)
        for kind in ["rms_norm", "rope", "attention", "silu", "mul"] {
            XCTAssertNil(text.range(of: "= \(kind) "), "no \(kind) op is left after lowering")
        }
    }
}
