// The runtime's kernels, one place per kernel: the instruction a plan step becomes, how a step is checked and
// resolved into it (operands' pointers, attributes), and how it runs on a chunk's rows. A new kernel is a case in
// each of the three switches below, next to each other; its declaration (operands, attributes, validation, cost)
// is in the plan's kernel table, Sources/Plan/KernelTable.swift. Helpers shared by the kernels: PlanCheck+Steps.swift
// (operands, shapes, matrices, rope tables, KV slots), MatrixKernels.swift, AttentionKernel.swift, VectorMath.swift.
import CKernels
import ParePlan

/// One executable step.
enum Instruction {
    /// out[r] = table[token r] (dequantised). table `[vocab, width]`.
    case embed(table: EmbeddingTable, out: Rows, width: Int)
    /// out[r] = x[r] / rms(x[r]) * weight. weight `[width]`.
    case rmsNorm(x: Rows, weight: UnsafePointer<Float>, eps: Float, out: Rows, width: Int)
    case linear(x: Rows, matrix: MatrixOperand, out: Rows)
    /// Rotates `heads` heads of x into out (may be the same rows) with rope table `table`.
    case rope(x: Rows, out: Rows, heads: Int, headDim: Int, table: Int)
    case attention(AttentionOperands)
    case silu(x: Rows, out: Rows, width: Int)
    case mul(a: Rows, b: Rows, out: Rows, width: Int)
    case add(a: Rows, b: Rows, out: Rows, width: Int)
    /// The fused q;k;v product, then rope on the q and k parts in place.
    case qkvRope(x: Rows, matrix: MatrixOperand, out: Rows, heads: Int, kvHeads: Int, headDim: Int, table: Int)
    /// The fused gate;up product into scratch, then out = silu(gate) * up. out `[ffn]`.
    case swiglu(x: Rows, matrix: MatrixOperand, out: Rows, ffn: Int)
}

extension Instruction {
    /// The matrix operand of a product kernel; nil for the others.
    var matrix: MatrixOperand? {
        switch self {
        case .linear(_, let m, _), .qkvRope(_, let m, _, _, _, _, _), .swiglu(_, let m, _, _): return m
        case .embed, .rmsNorm, .rope, .attention, .silu, .mul, .add: return nil
        }
    }
}

extension StepCompiler {
    mutating func instruction(_ i: Int, _ s: Step) throws -> Instruction {
        let at = label(i, s)
        try operands(at, s)
        switch s.kernel {
        case .embed:
            let width = plan.buffers[s.output].width
            let table = try embeddingTable(at, s.weights[0], shape: [plan.model.vocabSize, width])
            return .embed(table: table, out: rows(s.output), width: width)
        case .rmsNorm:
            let n = plan.buffers[s.inputs[0]].width
            try expectWidth(at, s.output, n)
            let g = try tensor(at, s.weights[0], shape: [n])
            guard let eps = s.eps else { throw RuntimeError.badAttribute(step: at, attribute: "eps", problem: "is missing; rms_norm needs it") }
            try checkEps(at, eps)
            try checkInPlace(at, s)
            return .rmsNorm(x: rows(s.inputs[0]), weight: g, eps: eps, out: rows(s.output), width: n)
        case .linear:
            let m = try matrix(at, s, inWidth: plan.buffers[s.inputs[0]].width, outWidth: plan.buffers[s.output].width)
            try checkInPlace(at, s)
            return .linear(x: rows(s.inputs[0]), matrix: m, out: rows(s.output))
        case .rope:
            let width = try heads(at, s, withKV: false)
            try expectWidth(at, s.inputs[0], width)
            try expectWidth(at, s.output, width)
            try checkInPlace(at, s)
            return .rope(x: rows(s.inputs[0]), out: rows(s.output), heads: s.heads, headDim: s.headDim, table: try rope(at, s))
        case .attention:
            let width = try heads(at, s, withKV: true)
            let kvWidth = s.kvHeads * s.headDim
            try expectWidth(at, s.inputs[0], width)
            try expectWidth(at, s.inputs[1], kvWidth)
            try expectWidth(at, s.inputs[2], kvWidth)
            try expectWidth(at, s.output, width)
            try useSlot(at, i, s)
            try checkInPlace(at, s)
            return .attention(AttentionOperands(q: rows(s.inputs[0]), k: rows(s.inputs[1]), v: rows(s.inputs[2]), out: rows(s.output),
                                                heads: s.heads, kvHeads: s.kvHeads, headDim: s.headDim, slot: s.kvSlot))
        case .silu, .mul, .add:
            let binary = s.kernel != .silu
            let width = plan.buffers[s.inputs[0]].width
            if binary { try expectWidth(at, s.inputs[1], width) }
            try expectWidth(at, s.output, width)
            try checkInPlace(at, s)
            let a = rows(s.inputs[0]), out = rows(s.output)
            switch s.kernel {
            case .silu: return .silu(x: a, out: out, width: width)
            case .mul: return .mul(a: a, b: rows(s.inputs[1]), out: out, width: width)
            default: return .add(a: a, b: rows(s.inputs[1]), out: out, width: width)
            }
        case .qkvRope:
            let qWidth = try heads(at, s, withKV: true)
            let total = qWidth + 2 * s.kvHeads * s.headDim
            try expectWidth(at, s.output, total)
            let m = try matrix(at, s, inWidth: plan.buffers[s.inputs[0]].width, outWidth: total)
            try checkInPlace(at, s)
            return .qkvRope(x: rows(s.inputs[0]), matrix: m, out: rows(s.output), heads: s.heads, kvHeads: s.kvHeads,
                            headDim: s.headDim, table: try rope(at, s))
        case .attentionQKV:
            let qWidth = try heads(at, s, withKV: true)
            let kvWidth = s.kvHeads * s.headDim
            try expectWidth(at, s.inputs[0], qWidth + 2 * kvWidth)
            try expectWidth(at, s.output, qWidth)
            try useSlot(at, i, s)
            try checkInPlace(at, s)
            let qkv = rows(s.inputs[0])
            return .attention(AttentionOperands(q: qkv, k: qkv.shifted(qWidth), v: qkv.shifted(qWidth + kvWidth), out: rows(s.output),
                                                heads: s.heads, kvHeads: s.kvHeads, headDim: s.headDim, slot: s.kvSlot))
        case .swiglu:
            guard s.ffn >= 1, s.ffn <= blasLimit / 2 else {
                throw RuntimeError.badAttribute(step: at, attribute: "ffn", problem: "is \(s.ffn); it must be positive")
            }
            try expectWidth(at, s.output, s.ffn)
            let m = try matrix(at, s, inWidth: plan.buffers[s.inputs[0]].width, outWidth: 2 * s.ffn)
            try checkInPlace(at, s)
            swigluWidth = max(swigluWidth, 2 * s.ffn)
            return .swiglu(x: rows(s.inputs[0]), matrix: m, out: rows(s.output), ffn: s.ffn)
        }
    }
}

extension RuntimeSession {
    /// Runs one instruction on rows first..<first+count of a chunk of `chunk` rows.
    @inline(__always)
    func execute(_ instruction: Instruction, _ tokens: UnsafePointer<Int>, first: Int, count: Int, chunk: Int) {
        let rows = first..<first + count
        switch instruction {
        case let .embed(table, out, width):
            for r in rows { pk_dequantize_row(table.type, table.base + tokens[r] * table.rowBytes, out.row(r), Int64(width)) }
        case let .rmsNorm(x, weight, eps, out, width):
            for r in rows { Elementwise.rmsNorm(x.row(r), weight: weight, eps: eps, out.row(r), width) }
        case let .linear(x, matrix, out):
            MatrixKernels.product(x: x, matrix, y: out, first: first, count: count, scratch: runtime.activationScratch,
                                  floats: runtime.prefillScratch.pointer, dequantizeFrom: runtime.dequantizeFrom)
        case let .rope(x, out, heads, headDim, table):
            for r in rows { runtime.ropeTables.rotate(x.row(r), out.row(r), heads: heads, headDim: headDim, table: table, row: r) }
        case let .attention(operands):
            // Never in the tail: always the whole chunk.
            AttentionKernel.run(operands, past: length, rows: chunk, memory: memories[operands.slot])
        case let .silu(x, out, width):
            Elementwise.silu(x.row(first), out.row(first), count * width)
        case let .mul(a, b, out, width):
            Elementwise.mul(a.row(first), b.row(first), out.row(first), count * width)
        case let .add(a, b, out, width):
            Elementwise.add(a.row(first), b.row(first), out.row(first), count * width)
        case let .qkvRope(x, matrix, out, heads, kvHeads, headDim, table):
            MatrixKernels.product(x: x, matrix, y: out, first: first, count: count, scratch: runtime.activationScratch,
                                  floats: runtime.prefillScratch.pointer, dequantizeFrom: runtime.dequantizeFrom)
            let tables = runtime.ropeTables
            for r in rows {
                let q = out.row(r), k = q + heads * headDim
                tables.rotate(q, q, heads: heads, headDim: headDim, table: table, row: r)
                tables.rotate(k, k, heads: kvHeads, headDim: headDim, table: table, row: r)
            }
        case let .swiglu(x, matrix, out, ffn):
            let scratch = Rows(base: runtime.swigluScratch.pointer, stride: 2 * ffn)
            MatrixKernels.product(x: x, matrix, y: scratch, first: first, count: count, scratch: runtime.activationScratch,
                                  floats: runtime.prefillScratch.pointer, dequantizeFrom: runtime.dequantizeFrom)
            for r in rows { Elementwise.swiglu(gate: scratch.row(r), up: scratch.row(r) + ffn, out.row(r), ffn) }
        }
    }
}
