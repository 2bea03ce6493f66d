// validate() on known-bad plans: each corruption of the valid toy plan is rejected with its own PlanError case.
import ParePlan
import XCTest

final class PlanValidationTests: XCTestCase {
    /// Asserts that `corrupt` applied to the toy plan makes `validate()` throw an error accepted by `matches`.
    private func assertRejected(_ what: String, line: UInt = #line, _ corrupt: (inout ExecutionPlan) -> Void,
                                _ matches: (PlanError) -> Bool) {
        var plan = Toy.plan()
        corrupt(&plan)
        assertPlanError(try plan.validate(), what, line: line, matches)
    }

    /// Index of the first step running `kernel` (in block `block` when given).
    private func step(_ plan: ExecutionPlan, _ kernel: Kernel, block: Int? = nil) -> Int {
        plan.steps.firstIndex { $0.kernel == kernel && (block == nil || $0.block == block) }!
    }

    func testTheToyPlanIsValid() throws {
        try Toy.plan().validate()
    }

    func testFormatVersion() {
        assertRejected("version 3", { $0.formatVersion = 3 }) { $0 == .formatVersion(found: 3) }
    }

    func testModelShape() {
        assertRejected("maxRows 0", { $0.model.maxRows = 0 }) { $0 == .modelShape(detail: "maxRows is 0, must be positive") }
    }

    func testIndicesOutOfRange() {
        assertRejected("input", { $0.steps[3].inputs[0] = 99 }) { $0 == .indexOutOfRange(what: "step 3 input 0 (buffer)", index: 99, count: 16) }
        assertRejected("weight", { $0.steps[1].weights[1] = -1 }) { $0 == .indexOutOfRange(what: "step 1 weight 1 (tensor)", index: -1, count: 12) }
        assertRejected("output", { $0.steps[0].output = 16 }) { $0 == .indexOutOfRange(what: "step 0 output (buffer)", index: 16, count: 16) }
        assertRejected("plan output", { $0.output = 40 }) { $0 == .indexOutOfRange(what: "output buffer", index: 40, count: 16) }
        assertRejected("kv slot", { p in p.steps[self.step(p, .attentionQKV, block: 1)].kvSlot = 2 }) {
            if case .indexOutOfRange(let what, 2, 2) = $0 { return what.hasSuffix("kvSlot") }
            return false
        }
    }

    func testArity() {
        assertRejected("linear without weights", { p in p.steps[self.step(p, .linear)].weights = [] }) {
            if case .arity(_, "linear", _) = $0 { return true }
            return false
        }
        assertRejected("add with one input", { p in p.steps[self.step(p, .add)].inputs.removeLast() }) {
            if case .arity(_, "add", _) = $0 { return true }
            return false
        }
    }

    func testShapesAndWidths() {
        assertRejected("linear weight transposed", { p in
            // Block 0's FFN down projection, [16, 24] -> [24, 16].
            XCTAssertEqual(p.steps[6].kernel, .linear)
            p.tensors[p.steps[6].weights[0]].shape.reverse()
        }) {
            if case .shapeMismatch(_, "linear", _) = $0 { return true }
            return false
        }
        assertRejected("swiglu ffn", { p in p.steps[self.step(p, .swiglu)].ffn = 12 }) {
            if case .shapeMismatch(_, "swiglu", _) = $0 { return true }
            return false
        }
        assertRejected("embedding rows", { $0.model.vocabSize = 33 }) {
            // The tokenizer check comes first: 32 tokens for 33.
            if case .tokenizerSize = $0 { return true }
            return false
        }
    }

    func testAttributes() {
        assertRejected("heads not a multiple of kv heads", { p in p.steps[self.step(p, .qkvRope)].heads = 3 }) {
            $0 == .headsNotMultipleOfKVHeads(step: 1, heads: 3, kvHeads: 2)
        }
        assertRejected("theta 0", { p in p.steps[self.step(p, .qkvRope)].theta = 0 }) {
            if case .badAttribute(1, "qkv_rope", _) = $0 { return true }
            return false
        }
        assertRejected("negative eps", { p in p.steps[self.step(p, .swiglu)].eps = -1 }) {
            if case .badAttribute(_, "swiglu", _) = $0 { return true }
            return false
        }
    }

    func testKVLayers() {
        assertRejected("slots not dense", { $0.kvLayers[1].slot = 5 }) {
            $0 == .kvSlots(detail: "entry 1 has slot 5; entry i must be slot i")
        }
        assertRejected("kv dims differ", { $0.kvLayers[0].headDim = 8 }) {
            if case .kvLayerMismatch(2, 0, _) = $0 { return true }
            return false
        }
        assertRejected("slot unused", { $0.kvLayers.append(KVLayer(slot: 2, block: 2, kvHeads: 2, headDim: 4)) }) {
            $0 == .kvSlots(detail: "slot 2 is used by no attention step")
        }
    }

    func testOutputWidth() {
        assertRejected("output is a hidden-wide buffer", { $0.output = 0 }) { $0 == .outputWidth(buffer: 0, width: 16, vocabSize: 32) }
    }

    func testArena() {
        assertRejected("buffer past the arena", { $0.buffers[2].offset = $0.arena.rowFloats }) {
            if case .bufferOutsideArena(2, _, _, _) = $0 { return true }
            return false
        }
        assertRejected("no-reuse size", { $0.arena.noReuseRowFloats += 1 }) {
            if case .arenaSize = $0 { return true }
            return false
        }
        assertRejected("live buffers overlap", { p in
            // The residual x (buffer 0) is live while block 0's qkv (buffer 1) is written.
            p.buffers[1].offset = p.buffers[0].offset
        }) { $0 == .liveBuffersOverlap(step: 1, a: 0, b: 1) }
    }

    func testDataFlow() {
        assertRejected("read before write", { p in
            // Block 0's qkv_rope reads block 0's final residual, written later.
            p.steps[1].inputs = [p.steps[7].output]
        }) { $0 == .readBeforeWrite(step: 1, buffer: 7) }
        assertRejected("in place", { p in p.steps[4].output = p.steps[4].inputs[0] }) { $0 == .inPlace(step: 4, buffer: 0) }
    }

    func testTensors() {
        assertRejected("misaligned", { $0.tensors[3].offset += 4 }) {
            $0 == .tensorMisaligned(tensor: "blk.0.attn_output", offset: Toy.plan().tensors[3].offset + 4)
        }
        assertRejected("length", { $0.tensors[2].length -= 4 }) {
            if case .tensorLength("blk.0.attn_qkv.bias", _, 128) = $0 { return true }
            return false
        }
        assertRejected("outside the blob", { $0.weights.length -= 4 }) {
            if case .tensorOutsideBlob("output", _, _) = $0 { return true }
            return false
        }
        assertRejected("overlap", { $0.tensors[2].offset = $0.tensors[1].offset }) {
            $0 == .tensorsOverlap(a: "blk.0.attn_qkv", b: "blk.0.attn_qkv.bias")
        }
        assertRejected("zero dimension", { $0.tensors[0].shape = [32, 0] }) { $0 == .tensorShape(tensor: "token_embd", shape: [32, 0]) }
        assertRejected("weights file", { $0.weights.file = "../weights.bin" }) { $0 == .weightsFile(name: "../weights.bin") }
    }

    func testTokenizer() {
        assertRejected("token count", { _ = $0.tokenizer.tokens.removeLast() }) {
            $0 == .tokenizerSize(detail: "31 tokens for a vocabulary of 32")
        }
        assertRejected("kind count", { $0.tokenizer.kinds.append("normal") }) {
            $0 == .tokenizerSize(detail: "33 token kinds for a vocabulary of 32")
        }
        assertRejected("special", { $0.tokenizer.specials[1].id = 32 }) { $0 == .specialOutOfRange(role: "eos", id: 32, vocabSize: 32) }
        assertRejected("id map not increasing", { $0.tokenizer.idMap.swapAt(3, 4) }) {
            if case .idMap = $0 { return true }
            return false
        }
        assertRejected("id map past the original vocabulary", { $0.tokenizer.originalSize = 90 }) {
            if case .idMap = $0 { return true }
            return false
        }
        assertRejected("id map size", { _ = $0.tokenizer.idMap.removeLast() }) {
            $0 == .idMap(detail: "31 entries for a vocabulary of 32")
        }
    }

    /// Absurd values from a hostile file must give an error, not an arithmetic trap.
    func testHostileValuesDoNotTrap() {
        assertRejected("huge shape", { $0.tensors[0].shape = [Int.max, 3] }) { $0 == .tensorShape(tensor: "token_embd", shape: [Int.max, 3]) }
        assertRejected("huge offset", { $0.tensors[11].offset = Int.max - 63 }) {
            if case .tensorOutsideBlob = $0 { return true }
            return false
        }
        assertRejected("huge heads", { p in p.steps[1].heads = Int.max; p.steps[1].kvHeads = 1 }) {
            if case .badAttribute = $0 { return true }
            return false
        }
        assertRejected("huge buffer", { $0.buffers[0].offset = Int.max }) {
            if case .bufferOutsideArena = $0 { return true }
            return false
        }
        assertRejected("huge ffn", { p in p.steps[self.step(p, .swiglu)].ffn = Int.max }) {
            if case .badAttribute = $0 { return true }
            return false
        }
    }

    func testMatrixPartsNormGainAndBlockTypes() throws {
        // A valid rewrite: block 0's down projection [16, 24] as two parts of 8 rows, the second in q8_0 (24 is not a
        // multiple of 32, so that one is rejected below), and a gain.
        var plan = Toy.plan()
        let i = 6
        XCTAssertEqual(plan.steps[i].kernel, .linear)
        let w = plan.steps[i].weights[0]
        var top = plan.tensors[w], bottom = plan.tensors[w]
        top.shape = [8, 24]
        top.length = 8 * 24 * 4
        bottom.shape = [8, 24]
        bottom.length = 8 * 24 * 4
        bottom.offset = top.offset + top.length // inside the original tensor's bytes
        bottom.name += ".part1"
        plan.tensors[w] = top
        plan.tensors.append(bottom)
        plan.steps[i].weights = [w, plan.tensors.count - 1] + plan.steps[i].weights.dropFirst()
        plan.steps[i].matrixParts = 2
        try plan.validate()

        var bad = plan
        bad.tensors[w].shape = [7, 24]
        bad.tensors[w].length = 7 * 24 * 4
        assertPlanError(try bad.validate(), "parts do not add up") {
            if case .shapeMismatch(_, "linear", let d) = $0 { return d.contains("rows in all") }
            return false
        }
        bad = plan
        bad.tensors[bad.tensors.count - 1].dtype = .q8_0 // rows of 24: not whole blocks of 32
        assertPlanError(try bad.validate(), "partial blocks") {
            if case .tensorShape = $0 { return true }
            return false
        }
        bad = plan
        bad.steps[i].normGain = true // no eps on this step
        assertPlanError(try bad.validate(), "gain without eps") {
            if case .badAttribute(_, "linear", let d) = $0 { return d.contains("normGain") }
            return false
        }
        bad = plan
        bad.steps[step(bad, .add)].matrixParts = 2 // not a matrix kernel
        assertPlanError(try bad.validate(), "parts on another kernel") {
            if case .badAttribute = $0 { return true }
            return false
        }
    }

    func testVectorsMustBeF32() {
        var plan = Toy.plan()
        guard let n = plan.steps.firstIndex(where: { [.linear, .qkvRope].contains($0.kernel) && $0.weights.count == 2 }) else {
            return XCTFail("the toy plan has no product with a bias")
        }
        let b = plan.steps[n].weights[1]
        plan.tensors[b].dtype = .f16
        plan.tensors[b].length /= 2
        assertPlanError(try plan.validate(), "an f16 bias") {
            if case .shapeMismatch(_, _, let d) = $0 { return d.contains("must be f32") }
            return false
        }
    }
}
