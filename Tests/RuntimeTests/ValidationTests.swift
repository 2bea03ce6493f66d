// Typed errors: bad inputs at run time, and plans that do not fit their weights or themselves at init.
import ParePlan
import PareRuntime
import XCTest

final class RuntimeValidationTests: XCTestCase {
    let model = ToyModel()

    func testContextOverflowIsATypedErrorAndLeavesTheSessionUnchanged() throws {
        let session = try makeRuntime(ToyPlans.fused(model)).makeSession(maxContext: 10)
        XCTAssertThrowsError(try session.forward(ToyModel.tokens(11, seed: 1))) { error in
            XCTAssertEqual(error as? RuntimeError, .contextOverflow(length: 0, adding: 11, maxContext: 10))
        }
        _ = try session.forward(ToyModel.tokens(6, seed: 1))
        XCTAssertThrowsError(try session.forward(ToyModel.tokens(5, seed: 2))) { error in
            XCTAssertEqual(error as? RuntimeError, .contextOverflow(length: 6, adding: 5, maxContext: 10))
            XCTAssertTrue(error.localizedDescription.contains("maximum context of 10"))
        }
        XCTAssertEqual(session.length, 6)
        XCTAssertEqual(try session.forward(ToyModel.tokens(4, seed: 2)).count, 50)
    }

    func testBadTokensAreTypedErrors() throws {
        let session = try makeRuntime(ToyPlans.fused(model)).makeSession()
        XCTAssertThrowsError(try session.forward([1, 50])) { error in
            XCTAssertEqual(error as? RuntimeError, .tokenOutOfRange(token: 50, index: 1, vocabSize: 50))
        }
        XCTAssertThrowsError(try session.forward([-1])) { error in
            XCTAssertEqual(error as? RuntimeError, .tokenOutOfRange(token: -1, index: 0, vocabSize: 50))
        }
        XCTAssertThrowsError(try session.forward([])) { XCTAssertEqual($0 as? RuntimeError, .emptyInput) }
        XCTAssertThrowsError(try generate(session, prompt: [3, 99], maxTokens: 2, sampling: .greedy, stop: []) { _ in }) {
            XCTAssertEqual($0 as? RuntimeError, .tokenOutOfRange(token: 99, index: 1, vocabSize: 50))
        }
        XCTAssertEqual(session.length, 0)
        let runtime = try makeRuntime(ToyPlans.fused(model, maxContext: 64))
        for bad in [0, 65] {
            XCTAssertThrowsError(try runtime.makeSession(maxContext: bad)) {
                XCTAssertEqual($0 as? RuntimeError, .badMaxContext(requested: bad, planMax: 64))
            }
        }
    }

    func testWeightOfTheWrongShapeIsRejectedAtInit() throws {
        var (plan, blob) = ToyPlans.unfused(model)
        // Point block 0's attention output projection ([16, 16]) at the FFN down matrix ([16, 24]).
        let o = plan.steps.firstIndex { $0.kernel == .linear && plan.tensors[$0.weights[0]].name == "blk.0.attn_output" }!
        let down = plan.tensors.firstIndex { $0.name == "blk.0.ffn_down" }!
        plan.steps[o].weights = [down]
        XCTAssertThrowsError(try PlanRuntime(plan: plan, weights: blob.buffer)) { error in
            XCTAssertEqual(error as? RuntimeError, .weightShape(step: "plan step \(o) (linear, block 0)", tensor: "blk.0.ffn_down",
                                                                shape: [16, 24], expected: [16, 16]))
            print(error.localizedDescription)
        }
    }

    /// Each mutation breaks one rule; init must throw the matching case.
    func testInconsistentPlansAreRejectedAtInit() throws {
        let (good, blob) = ToyPlans.fused(model)
        XCTAssertNoThrow(try PlanRuntime(plan: good, weights: blob.buffer))
        let qkv = good.steps.firstIndex { $0.kernel == .qkvRope }!
        let attention = good.steps.firstIndex { $0.kernel == .attentionQKV }!
        let firstLinear = good.steps.firstIndex { $0.kernel == .linear }!
        let cases: [(String, (inout ExecutionPlan) -> Void, (RuntimeError) -> Bool)] = [
            ("buffer past the arena", { $0.buffers[1].offset = $0.arena.rowFloats }, { if case .bufferOutOfArena = $0 { true } else { false } }),
            ("tensor past the blob", { $0.tensors[2].offset += 1 << 20 }, { if case .tensorOutOfBlob = $0 { true } else { false } }),
            ("misaligned tensor", { $0.tensors[2].offset += 4 }, { if case .badTensor = $0 { true } else { false } }),
            ("wrong tensor length", { $0.tensors[0].length -= 4 }, { if case .badTensor = $0 { true } else { false } }),
            ("output of the wrong width", { $0.output = 0 }, { if case .badOutput = $0 { true } else { false } }),
            ("linear writing over its input", { $0.steps[firstLinear].output = $0.steps[firstLinear].inputs[0] },
             { if case .bufferWidth = $0 { true } else if case .bufferOverlap = $0 { true } else { false } }),
            ("kv slot used twice", { p in p.steps[p.steps.lastIndex { $0.kernel == .attentionQKV }!].kvSlot = 0 },
             { if case .badAttribute(_, "kvSlot", _) = $0 { true } else { false } }),
            ("kv slot out of range", { $0.steps[attention].kvSlot = 7 }, { if case .badAttribute(_, "kvSlot", _) = $0 { true } else { false } }),
            ("odd head dim for rope", { $0.steps[qkv].headDim = 3 }, { if case .badAttribute = $0 { true } else if case .bufferWidth = $0 { true } else { false } }),
            ("kv heads not dividing heads", { $0.steps[qkv].kvHeads = 3 }, { if case .badAttribute(_, "kvHeads", _) = $0 { true } else { false } }),
            ("missing input", { $0.steps[attention].inputs = [] }, { if case .badOperands = $0 { true } else { false } }),
            ("buffer index out of range", { $0.steps[attention].output = 999 }, { if case .badOperands = $0 { true } else { false } }),
            ("negative eps", { $0.steps[qkv].eps = -1 }, { if case .badAttribute(_, "eps", _) = $0 { true } else { false } }),
            ("zero maxRows", { $0.model.maxRows = 0 }, { if case .badModelShape = $0 { true } else { false } }),
            ("kv layer out of order", { $0.kvLayers[0].slot = 1 }, { if case .badKVLayer = $0 { true } else { false } }),
        ]
        for (name, mutate, matches) in cases {
            var plan = good
            mutate(&plan)
            XCTAssertThrowsError(try PlanRuntime(plan: plan, weights: blob.buffer), name) { error in
                guard let e = error as? RuntimeError, matches(e) else { return XCTFail("\(name): unexpected \(error)") }
                XCTAssertFalse(e.localizedDescription.isEmpty)
            }
        }
    }

    func testOverlappingLinearOutputIsRejected() throws {
        var (plan, blob) = ToyPlans.unfused(model)
        // The o projection's output [16] placed over the attention buffer it reads (same width 16 in block 0).
        let o = plan.steps.firstIndex { $0.kernel == .linear && plan.tensors[$0.weights[0]].name == "blk.0.attn_output" }!
        plan.buffers[plan.steps[o].output].offset = plan.buffers[plan.steps[o].inputs[0]].offset + 4
        XCTAssertThrowsError(try PlanRuntime(plan: plan, weights: blob.buffer)) { error in
            guard case .bufferOverlap(let step, _, _) = error as? RuntimeError else { return XCTFail("\(error)") }
            XCTAssertEqual(step, "plan step \(o) (linear, block 0)")
        }
    }
}
