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
}
