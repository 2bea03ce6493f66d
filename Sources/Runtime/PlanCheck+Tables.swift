// Checks of a plan's tables before any step is looked at: model sizes, tensors against the blob, buffers
// against the arena, KV layers, the output buffer.
import ParePlan

/// The largest size handed to BLAS (its dimensions are 32-bit).
let blasLimit = Int(Int32.max)

enum PlanTables {
    /// Model sizes in 1...Int32.max, and an arena of `maxRows * rowFloats` floats that can be addressed.
    static func checkModel(_ plan: ExecutionPlan) throws {
        let m = plan.model
        for (field, value) in [("hidden", m.hidden), ("vocabSize", m.vocabSize), ("maxContext", m.maxContext),
                               ("maxRows", m.maxRows)] {
            guard value >= 1, value <= blasLimit else {
                throw RuntimeError.badModelShape(field: field, value: value, problem: "it must be in 1...\(blasLimit)")
            }
        }
        guard plan.arena.rowFloats >= 0, plan.arena.rowFloats <= blasLimit else {
            throw RuntimeError.badModelShape(field: "arena.rowFloats", value: plan.arena.rowFloats,
                                             problem: "it must be in 0...\(blasLimit)")
        }
        let (_, overflow) = m.maxRows.multipliedReportingOverflow(by: plan.arena.rowFloats * 4)
        guard !overflow else {
            throw RuntimeError.badModelShape(field: "maxRows", value: m.maxRows, problem: "maxRows * arena.rowFloats overflows")
        }
    }

    /// Every tensor has positive dims, `length` its dtype's bytes for its shape, a 64-aligned offset, inside the blob.
    static func checkTensors(_ plan: ExecutionPlan, weights: UnsafeRawBufferPointer) throws {
        if !plan.tensors.isEmpty, let base = weights.baseAddress, UInt(bitPattern: base) % 4 != 0 {
            throw RuntimeError.weightsMisaligned(address: UInt(bitPattern: base))
        }
        for t in plan.tensors {
            guard !t.shape.isEmpty, t.shape.allSatisfy({ $0 >= 1 && $0 <= blasLimit }) else {
                throw RuntimeError.badTensor(tensor: t.name, problem: "shape \(t.shape) needs one or more dims in 1...\(blasLimit)")
            }
            var count = 1
            for d in t.shape {
                let (c, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, c <= Int.max / 8 else { throw RuntimeError.badTensor(tensor: t.name, problem: "shape \(t.shape) is too large") }
                count = c
            }
            guard let bytes = t.dtype.byteCount(shape: t.shape) else {
                throw RuntimeError.badTensor(tensor: t.name, problem: "shape \(t.shape): a row of \(t.dtype.rawValue) must be whole blocks of \(t.dtype.blockElements)")
            }
            guard t.length == bytes else {
                throw RuntimeError.badTensor(tensor: t.name, problem: "length \(t.length) bytes does not match shape \(t.shape) (\(bytes) bytes of \(t.dtype.rawValue))")
            }
            guard t.offset >= 0, t.offset % 64 == 0 else {
                throw RuntimeError.badTensor(tensor: t.name, problem: "offset \(t.offset) is not a non-negative multiple of 64")
            }
            guard t.offset <= weights.count, t.length <= weights.count - t.offset, weights.baseAddress != nil else {
                throw RuntimeError.tensorOutOfBlob(tensor: t.name, offset: t.offset, length: t.length, blobBytes: weights.count)
            }
        }
    }

    /// Every buffer has a positive width and lies inside the arena's row.
    static func checkBuffers(_ plan: ExecutionPlan) throws {
        let rowFloats = plan.arena.rowFloats
        for b in plan.buffers {
            guard b.width >= 1, b.offset >= 0, b.offset <= rowFloats, b.width <= rowFloats - b.offset else {
                throw RuntimeError.bufferOutOfArena(buffer: b.name, offset: b.offset, width: b.width, rowFloats: rowFloats)
            }
        }
    }

    /// KV layers are listed by slot 0..<n with positive dims.
    static func checkKVLayers(_ plan: ExecutionPlan) throws {
        for (i, kv) in plan.kvLayers.enumerated() {
            guard kv.slot == i else { throw RuntimeError.badKVLayer(slot: kv.slot, problem: "listed at position \(i); slots must be 0..<\(plan.kvLayers.count) in order") }
            guard kv.kvHeads >= 1, kv.headDim >= 1, kv.kvHeads <= blasLimit / kv.headDim else {
                throw RuntimeError.badKVLayer(slot: i, problem: "kvHeads \(kv.kvHeads) and headDim \(kv.headDim) must be positive")
            }
        }
    }

    /// The output buffer exists, is `vocabSize` wide and some step writes it.
    static func checkOutput(_ plan: ExecutionPlan) throws {
        guard plan.buffers.indices.contains(plan.output) else {
            throw RuntimeError.badOutput(problem: "index \(plan.output) is not one of the \(plan.buffers.count) buffers")
        }
        let b = plan.buffers[plan.output]
        guard b.width == plan.model.vocabSize else {
            throw RuntimeError.badOutput(problem: "'\(b.name)' has width \(b.width); expected the vocabulary size \(plan.model.vocabSize)")
        }
        guard plan.steps.contains(where: { $0.output == plan.output }) else {
            throw RuntimeError.badOutput(problem: "no step writes '\(b.name)'")
        }
    }
}
