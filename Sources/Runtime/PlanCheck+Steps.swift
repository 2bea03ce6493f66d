// Checks every plan step and resolves it to an Instruction (the per-kernel part is in Instructions.swift): operand
// counts (the kernel table's) and indices, weight shapes against buffer widths, attributes, KV slots, in-place rules.
import CKernels
import ParePlan

/// Builds the Program of a plan whose tables passed `PlanTables`; throws at the first step that is wrong.
struct StepCompiler {
    let plan: ExecutionPlan
    /// The arena: `[maxRows, rowFloats]`.
    let arena: UnsafeMutablePointer<Float>
    let weights: UnsafeRawPointer?
    var ropeConfigs: [RopeConfig] = []
    /// kv slot -> the step that uses it.
    var slotUsers: [Int: Int] = [:]
    var swigluWidth = 0
    var activationBytes = [Int](repeating: 0, count: ActivationKind.count)

    init(plan: ExecutionPlan, arena: UnsafeMutablePointer<Float>, weights: UnsafeRawPointer?) {
        self.plan = plan
        self.arena = arena
        self.weights = weights
    }

    mutating func compile() throws -> Program {
        var instructions: [Instruction] = []
        instructions.reserveCapacity(plan.steps.count)
        var tailStart = 0
        for (i, step) in plan.steps.enumerated() {
            instructions.append(try instruction(i, step))
            if step.kernel.spec.attends { tailStart = i + 1 }
        }
        return Program(instructions: instructions, tailStart: tailStart, ropeConfigs: ropeConfigs, swigluWidth: swigluWidth,
                       activationBytes: activationBytes)
    }

    // MARK: - Operands

    /// "plan step 12 (linear, block 3)"
    func label(_ i: Int, _ s: Step) -> String {
        "plan step \(i) (\(s.kernel.rawValue)\(s.block.map { ", block \($0)" } ?? ""))"
    }

    /// Arity (the kernel table's) and indices.
    func operands(_ at: String, _ s: Step) throws {
        let spec = s.kernel.spec, inputs = spec.inputs, weights = spec.weightCount(s)
        guard s.inputs.count == inputs else {
            throw RuntimeError.badOperands(step: at, problem: "has \(s.inputs.count) input buffers; \(s.kernel.rawValue) takes \(inputs)")
        }
        guard weights.contains(s.weights.count) else {
            let want = weights.lowerBound == weights.upperBound ? "\(weights.lowerBound)" : "\(weights.lowerBound) or \(weights.upperBound)"
            throw RuntimeError.badOperands(step: at, problem: "has \(s.weights.count) weight tensors; \(s.kernel.rawValue) takes \(want)")
        }
        for b in s.inputs + [s.output] where !plan.buffers.indices.contains(b) {
            throw RuntimeError.badOperands(step: at, problem: "names buffer \(b), but the plan has \(plan.buffers.count) buffers")
        }
        for t in s.weights where !plan.tensors.indices.contains(t) {
            throw RuntimeError.badOperands(step: at, problem: "names tensor \(t), but the plan has \(plan.tensors.count) tensors")
        }
    }

    func rows(_ buffer: Int) -> Rows {
        let b = plan.buffers[buffer]
        return Rows(base: arena + b.offset * plan.model.maxRows, stride: b.width)
    }

    func expectWidth(_ at: String, _ buffer: Int, _ width: Int) throws {
        let b = plan.buffers[buffer]
        guard b.width == width else { throw RuntimeError.bufferWidth(step: at, buffer: b.name, width: b.width, expected: width) }
    }

    /// The tensor's data, after checking its shape (and that it is f32).
    func tensor(_ at: String, _ index: Int, shape: [Int]) throws -> UnsafePointer<Float> {
        let t = plan.tensors[index]
        guard t.shape == shape else { throw RuntimeError.weightShape(step: at, tensor: t.name, shape: t.shape, expected: shape) }
        guard t.dtype == .f32 else { throw RuntimeError.badTensor(tensor: t.name, problem: "is \(t.dtype.rawValue); \(at) reads it as f32") }
        // checkTensors guaranteed a blob base and an aligned, in-range offset.
        guard let weights else { throw RuntimeError.tensorOutOfBlob(tensor: t.name, offset: t.offset, length: t.length, blobBytes: 0) }
        return (weights + t.offset).assumingMemoryBound(to: Float.self)
    }

    /// W `[out, in]` as row-stacked parts in any kernel dtype, optional b `[out]`, optional folded-norm eps and
    /// gain `[in]`. One f32 part and no gain run on BLAS; anything else on the C kernels.
    mutating func matrix(_ at: String, _ s: Step, inWidth: Int, outWidth: Int) throws -> MatrixOperand {
        guard s.matrixParts >= 0, s.matrixParts <= 64 else {
            throw RuntimeError.badAttribute(step: at, attribute: "matrixParts", problem: "is \(s.matrixParts); it must be in 0...64")
        }
        if s.normGain && s.eps == nil {
            throw RuntimeError.badAttribute(step: at, attribute: "normGain", problem: "is set without eps; a norm gain needs the folded norm")
        }
        let roles = s.matrixRoles
        let b = try roles.bias.map { try tensor(at, s.weights[$0], shape: [outWidth]) }
        let g = try roles.gain.map { try tensor(at, s.weights[$0], shape: [inWidth]) }
        if let eps = s.eps { try checkEps(at, eps) }
        let first = plan.tensors[s.weights[0]]
        if roles.parts.count == 1, first.dtype == .f32, g == nil {
            let w = try tensor(at, s.weights[0], shape: [outWidth, inWidth])
            return MatrixOperand(weight: w, parts: [], bias: b, gain: nil, outWidth: outWidth, inWidth: inWidth, normEps: s.eps)
        }
        var parts: [MatrixPart] = []
        var row = 0
        for j in roles.parts {
            let t = plan.tensors[s.weights[j]]
            guard t.shape.count == 2, t.shape[1] == inWidth, t.shape[0] <= outWidth - row else {
                throw RuntimeError.weightShape(step: at, tensor: t.name, shape: t.shape, expected: [outWidth - row, inWidth])
            }
            let type = t.dtype.ggmlType
            guard pk_supported(type) != 0, pk_row_bytes(type, Int64(inWidth)) > 0 else {
                throw RuntimeError.badTensor(tensor: t.name, problem: "\(t.dtype.rawValue) rows of \(inWidth) have no kernel")
            }
            guard let weights else { throw RuntimeError.tensorOutOfBlob(tensor: t.name, offset: t.offset, length: t.length, blobBytes: 0) }
            let kind = ActivationKind.of(blockElements: t.dtype.blockElements)
            let actBytes = pk_act_bytes(type, Int64(inWidth))
            activationBytes[kind] = max(activationBytes[kind], actBytes)
            parts.append(MatrixPart(type: type, base: weights + t.offset, rows: t.shape[0], rowOffset: row, kind: kind, actBytes: actBytes))
            row += t.shape[0]
        }
        guard row == outWidth else {
            throw RuntimeError.weightShape(step: at, tensor: first.name, shape: [row, inWidth], expected: [outWidth, inWidth])
        }
        return MatrixOperand(weight: nil, parts: parts, bias: b, gain: g, outWidth: outWidth, inWidth: inWidth, normEps: s.eps)
    }

    /// An embedding table `[vocab, width]` in any kernel dtype.
    func embeddingTable(_ at: String, _ index: Int, shape: [Int]) throws -> EmbeddingTable {
        let t = plan.tensors[index]
        guard t.shape == shape else { throw RuntimeError.weightShape(step: at, tensor: t.name, shape: t.shape, expected: shape) }
        let type = t.dtype.ggmlType
        guard pk_supported(type) != 0 else { throw RuntimeError.badTensor(tensor: t.name, problem: "\(t.dtype.rawValue) has no kernel") }
        guard let weights else { throw RuntimeError.tensorOutOfBlob(tensor: t.name, offset: t.offset, length: t.length, blobBytes: 0) }
        return EmbeddingTable(type: type, base: weights + t.offset, rowBytes: Int(pk_row_bytes(type, Int64(shape[1]))))
    }

    func checkEps(_ at: String, _ eps: Float) throws {
        guard eps.isFinite, eps >= 0 else { throw RuntimeError.badAttribute(step: at, attribute: "eps", problem: "is \(eps); it must be finite and >= 0") }
    }

    // MARK: - Attributes

    /// Checks heads/headDim (and kvHeads dividing heads); returns heads * headDim.
    func heads(_ at: String, _ s: Step, withKV: Bool) throws -> Int {
        guard s.headDim >= 1 else { throw RuntimeError.badAttribute(step: at, attribute: "headDim", problem: "is \(s.headDim); it must be positive") }
        guard s.heads >= 1, s.heads <= blasLimit / (3 * s.headDim) else {
            throw RuntimeError.badAttribute(step: at, attribute: "heads", problem: "is \(s.heads); it must be positive")
        }
        if withKV {
            guard s.kvHeads >= 1, s.kvHeads <= s.heads, s.heads % s.kvHeads == 0 else {
                throw RuntimeError.badAttribute(step: at, attribute: "kvHeads", problem: "is \(s.kvHeads); it must be positive and divide heads (\(s.heads))")
            }
        }
        return s.heads * s.headDim
    }

    /// Checks theta and an even head dim; returns the rope table index for (headDim, theta).
    mutating func rope(_ at: String, _ s: Step) throws -> Int {
        guard s.headDim % 2 == 0 else { throw RuntimeError.badAttribute(step: at, attribute: "headDim", problem: "is \(s.headDim); rope needs an even head dim") }
        guard s.theta.isFinite, s.theta > 0 else { throw RuntimeError.badAttribute(step: at, attribute: "theta", problem: "is \(s.theta); it must be finite and positive") }
        let config = RopeConfig(headDim: s.headDim, theta: s.theta)
        if let i = ropeConfigs.firstIndex(of: config) { return i }
        ropeConfigs.append(config)
        return ropeConfigs.count - 1
    }

    /// The slot exists, matches the step's dims, and no other step uses it.
    mutating func useSlot(_ at: String, _ i: Int, _ s: Step) throws {
        guard plan.kvLayers.indices.contains(s.kvSlot) else {
            throw RuntimeError.badAttribute(step: at, attribute: "kvSlot", problem: "is \(s.kvSlot), but the plan has \(plan.kvLayers.count) KV layers")
        }
        let kv = plan.kvLayers[s.kvSlot]
        guard kv.kvHeads == s.kvHeads, kv.headDim == s.headDim else {
            throw RuntimeError.badAttribute(step: at, attribute: "kvSlot", problem: "is \(s.kvSlot), laid out for kvHeads \(kv.kvHeads) x headDim \(kv.headDim); the step has \(s.kvHeads) x \(s.headDim)")
        }
        if let other = slotUsers[s.kvSlot] {
            throw RuntimeError.badAttribute(step: at, attribute: "kvSlot", problem: "is \(s.kvSlot), already used by plan step \(other)")
        }
        slotUsers[s.kvSlot] = i
    }

    /// Elementwise kernels may write over an input exactly (same offset and width); nothing may partially
    /// overlap, and matrix and attention kernels may not overlap their inputs at all.
    func checkInPlace(_ at: String, _ s: Step) throws {
        let out = plan.buffers[s.output], elementwise = s.kernel.spec.elementwise
        for i in s.inputs {
            let b = plan.buffers[i]
            let disjoint = b.offset + b.width <= out.offset || out.offset + out.width <= b.offset
            let same = b.offset == out.offset && b.width == out.width
            guard disjoint || (elementwise && same) else { throw RuntimeError.bufferOverlap(step: at, input: b.name, output: out.name) }
        }
    }
}
