// The kernel table (KernelTable.swift): every kernel declared once, its protobuf value unique and round-tripping,
// its arity what validation enforces, its cost what the formulas say on a plan whose numbers are known by hand.
@testable import ParePlan
import XCTest

final class KernelTableTests: XCTestCase {
    func testEveryKernelHasItsOwnProtobufValueAndComesBackFromIt() {
        var seen: [Int: Kernel] = [:]
        for k in Kernel.allCases {
            let value = k.spec.protobuf.rawValue
            XCTAssertNotEqual(value, 0, "\(k) is declared as UNSPECIFIED")
            XCTAssertNil(seen[value], "\(k) and \(seen[value].map { "\($0)" } ?? "") share protobuf value \(value)")
            seen[value] = k
            XCTAssertEqual(Kernel(protobuf: k.spec.protobuf), k)
            XCTAssertEqual(k.spec.kernel, k)
        }
        XCTAssertNil(Kernel(protobuf: .unspecified))
        XCTAssertNil(Kernel(protobuf: .UNRECOGNIZED(99)))
    }

    /// The table's arity is what validation enforces: each kernel of the toy plan with one weight more than the
    /// table allows (an optional bias included) or one input too few is rejected as `arity`, naming the kernel.
    func testValidationRejectsWhatTheTableDoesNotAllow() throws {
        let plan = Toy.plan()
        var kernelsSeen = Set<Kernel>()
        for (i, s) in plan.steps.enumerated() where kernelsSeen.insert(s.kernel).inserted {
            var extraWeight = plan
            let allowed = s.kernel.spec.weightCount(s).upperBound
            extraWeight.steps[i].weights += Array(repeating: 0, count: allowed + 1 - s.weights.count)
            XCTAssertThrowsError(try extraWeight.validate(), "\(s.kernel) with \(allowed + 1) weights") { e in
                guard case .arity(i, s.kernel.rawValue, _)? = e as? PlanError else { return XCTFail("\(s.kernel): \(e)") }
            }
            if s.kernel.spec.inputs > 0 {
                var fewerInputs = plan
                fewerInputs.steps[i].inputs.removeLast()
                XCTAssertThrowsError(try fewerInputs.validate(), "\(s.kernel) with an input less") { e in
                    guard case .arity(i, s.kernel.rawValue, _)? = e as? PlanError else { return XCTFail("\(s.kernel): \(e)") }
                }
            }
        }
        XCTAssertEqual(kernelsSeen, [.embed, .qkvRope, .attentionQKV, .linear, .add, .swiglu])
    }

    func testMatrixCostCountsEveryPartAndAttentionIsCausal() {
        // q, k, v as three parts of 8, 4 and 4 rows over 16 columns, a bias and a norm gain: 16 x 16 in all.
        let s = Step(kernel: .qkvRope, inputs: [0], weights: [0, 1, 2, 3, 4], output: 1, eps: 1e-6, heads: 2, kvHeads: 1,
                     headDim: 4, theta: 1e4, matrixParts: 3, normGain: true)
        let shapes = [[8, 16], [4, 16], [4, 16], [16], [16]]
        XCTAssertEqual(s.kernel.spec.weightCount(s), 4...5)
        XCTAssertEqual(s.kernel.spec.flops(s, shapes: shapes, rows: 3, past: 0), 2 * 3 * 16 * 16)

        let a = Step(kernel: .attention, inputs: [0, 1, 2], output: 3, heads: 2, kvHeads: 1, headDim: 4, kvSlot: 0)
        // 3 rows after 5 positions: row r attends over 5 + r keys (r = 1, 2, 3): 21 (query, key) pairs, 4 x 2 x 4 each.
        XCTAssertEqual(a.kernel.spec.flops(a, shapes: [], rows: 3, past: 5), 21 * 4 * 2 * 4)
        // One decoded token after 511 positions: 512 pairs.
        XCTAssertEqual(a.kernel.spec.flops(a, shapes: [], rows: 1, past: 511), 512 * 4 * 2 * 4)
        XCTAssertTrue(a.kernel.spec.attends)
        XCTAssertFalse(Kernel.qkvRope.spec.attends)
    }

    /// A rope step does not read kv_heads (the IR's rope has no such attribute), so validation must not ask for it.
    func testARopeStepWithoutKVHeadsIsValid() throws {
        var plan = Toy.plan()
        let i = try XCTUnwrap(plan.steps.firstIndex { $0.kernel == .attentionQKV })
        // Rotate the attention output in place of the o projection's input: same width (heads x headDim).
        let s = plan.steps[i]
        plan.buffers.append(BufferEntry(name: "%roped", width: Toy.heads * Toy.headDim, offset: plan.arena.rowFloats))
        plan.arena.rowFloats += Toy.heads * Toy.headDim
        plan.arena.noReuseRowFloats += Toy.heads * Toy.headDim
        let roped = plan.buffers.count - 1
        plan.steps.insert(Step(kernel: .rope, block: s.block, inputs: [s.output], output: roped, heads: Toy.heads,
                               headDim: Toy.headDim, theta: 1e4), at: i + 1)
        plan.steps[i + 2].inputs = [roped]
        XCTAssertEqual(plan.steps[i + 2].kernel, .linear)
        try plan.validate()
        plan.steps[i + 1].headDim = 3
        XCTAssertThrowsError(try plan.validate()) { e in
            guard case .badAttribute(i + 1, "rope", _)? = e as? PlanError else { return XCTFail("\(e)") }
        }
    }

    /// A hostile plan that names one huge tensor as all 64 parts of a matrix (2^57 rows each: 2^63 in all, one more
    /// than Int can hold) is rejected as a shape mismatch; summing the parts' rows unchecked would trap.
    func testPartsWhoseRowsOverflowAreRejectedNotTrapped() throws {
        var plan = Toy.plan()
        let i = try XCTUnwrap(plan.steps.firstIndex { $0.kernel == .qkvRope })
        let rows = 1 << 57, offset = (plan.weights.length + 63) / 64 * 64
        plan.tensors.append(TensorEntry(name: "huge", dtype: .f16, shape: [rows, Toy.hidden], offset: offset,
                                        length: rows * Toy.hidden * 2, checksum: 0))
        plan.weights.length = offset + rows * Toy.hidden * 2
        let bias = plan.steps[i].weights[1]
        plan.steps[i].weights = Array(repeating: plan.tensors.count - 1, count: 64) + [bias]
        plan.steps[i].matrixParts = 64
        XCTAssertThrowsError(try plan.validate()) { e in
            guard case .shapeMismatch(i, "qkv_rope", _)? = e as? PlanError else { return XCTFail("\(e)") }
        }
    }
}
