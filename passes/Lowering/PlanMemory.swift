// plan-memory: the memory plan. Every op's result gets an arena offset (floats per row) from value liveness, so
// values that are never live at the same time share space; the module records the arena's size with and without
// reuse.
//
//   %0 = embed @token_embd.weight, %tokens : tensor<?x896xf32>
//   %1 = qkv_rope %0, @blk.0.attn_qkv.weight, ... block 0 : tensor<?x1152xf32>
//   %2 = attention_qkv %1 {...} block 0 : tensor<?x896xf32>
// ->
//   metadata { ... memory.arena_row_floats = 12160  memory.no_reuse_row_floats = 310400 }
//   %0 = embed @token_embd.weight, %tokens {arena_offset = 0} : tensor<?x896xf32>
//   %1 = qkv_rope %0, ... {arena_offset = 896, ...} block 0 : tensor<?x1152xf32>
//   %2 = attention_qkv %1 {arena_offset = 2048, ...} block 0 : tensor<?x896xf32>
//
// Without reuse, the arena would be the sum of all widths (`memory.no_reuse_row_floats`).
// A value is live from the op that defines it through its last reader (the returned value to the end). An op's
// result never shares space with its own operands (kernels do not work in place). Offsets and widths are rounded
// up to 16 floats, so with any row count every buffer starts 64-byte aligned. First fit, in op order; the layout
// is deterministic. The runtime's arena holds `rows` rows of `memory.arena_row_floats`: buffer b is `[rows, width]`
// at float offset `arena_offset * rows`, which keeps the layout valid for every row count.
import Foundation
import PareIR

/// Assigns arena offsets from liveness. Statistics: `buffers`, `arena floats per row`,
/// `floats per row without reuse`, `saved`.
public struct PlanMemory: Pass {
    /// `plan-memory`.
    public let name = "plan-memory"
    /// One line for `pare passes` and the docs.
    public let summary = "Lowering: assign arena offsets from value liveness (buffer reuse) and record the arena size"

    /// Alignment of offsets and widths, in floats (64 bytes).
    public static let alignment = 16

    /// Metadata key of the arena's floats per row (offsets and widths padded to 16 floats).
    public static let arenaKey = "memory.arena_row_floats"
    /// Metadata key of the floats per row without reuse: the sum of the values' widths, unpadded.
    public static let noReuseKey = "memory.no_reuse_row_floats"

    /// Creates the pass (it has no options).
    public init() {}

    /// Plans every op's result; replaces any earlier plan.
    public func run(_ r: inout Rewriter, context: PassContext) throws -> PassStatistics {
        let ops = r.ops
        var lastUse: [Value: Int] = [:]
        for (i, op) in ops.enumerated() { for v in op.valueOperands { lastUse[v] = i } }
        let end = ops.count
        let a = Self.alignment
        func rounded(_ n: Int) -> Int { (n + a - 1) / a * a }

        var live: [(value: Value, offset: Int, size: Int)] = []   // sorted by offset
        var offsets: [Value: Int] = [:]
        var arena = 0, noReuse = 0
        for (i, op) in ops.enumerated() {
            let width = op.type.shape.last?.size ?? 1
            let size = rounded(width)
            noReuse += width
            // First fit among the gaps between live buffers (the operands are still live here).
            var offset = 0
            for b in live {
                if b.offset - offset >= size { break }
                offset = max(offset, b.offset + b.size)
            }
            live.append((op.result, offset, size))
            live.sort { $0.offset < $1.offset }
            offsets[op.result] = offset
            arena = max(arena, offset + size)
            // Release what dies here: operands read for the last time, and a result nobody reads.
            live.removeAll { b in
                let last = b.value == r.module.function.result ? end : (lastUse[b.value] ?? i)
                return last <= i
            }
        }
        for op in ops {
            guard let o = offsets[op.result] else { continue }
            try r.updateOp(op.result) { $0.attributes["arena_offset"] = .int(o) }
        }
        r.setMetadata(key: Self.arenaKey, value: .int(arena))
        r.setMetadata(key: Self.noReuseKey, value: .int(noReuse))

        var stats = PassStatistics()
        stats.add("buffers", ops.count)
        stats.add("arena floats per row", arena)
        stats.add("floats per row without reuse", noReuse)
        stats.add("saved", .string(noReuse == 0 ? "0%" : String(format: "%.1f%%", 100 * Double(noReuse - arena) / Double(noReuse))))
        return stats
    }
}
