// Running one chunk: the program's instructions in order over the chunk's rows, then the cache length advances.
import CKernels

/// Which rows of the row-wise tail (the steps after the last attention) a chunk needs.
enum TailRows {
    /// Every row: all logits are wanted.
    case all
    /// Only the chunk's last row: the next-token logits.
    case last
    /// None: an earlier chunk of a prompt only fills the KV caches.
    case none
}

extension RuntimeSession {
    /// Runs `count` (1...maxRows) checked tokens at positions length..<length+count and advances `length`.
    func run(_ tokens: UnsafePointer<Int>, count m: Int, rows tail: TailRows) {
        let rt = runtime
        let program = rt.program
        rt.ropeTables.fill(past: length, rows: m)
        steps: for index in program.instructions.indices {
            var first = 0, count = m
            if index >= program.tailStart {
                switch tail {
                case .all: break
                case .last: first = m - 1; count = 1
                case .none: break steps
                }
            }
            execute(program.instructions[index], tokens, first: first, count: count, chunk: m)
        }
        length += m
    }

    /// Runs one instruction on rows first..<first+count of a chunk of `chunk` rows.
    @inline(__always)
    private func execute(_ instruction: Instruction, _ tokens: UnsafePointer<Int>, first: Int, count: Int, chunk: Int) {
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
