// dce: erases ops whose results nothing reads, then parameters no op reads (directly or through a packed one's views).
//
//   %5 = linear %4, @blk.0.ffn_gate.weight block 0 : tensor<?x16xf32>     // %5 is never read
//   %6 = linear %4, @blk.0.ffn_up.weight block 0 : tensor<?x16xf32>
//   param @blk.0.ffn_gate.weight : tensor<16x8xf32> = load "blk.0.ffn_gate.weight" f32 [16, 8]
// ->
//   %5 = linear %4, @blk.0.ffn_up.weight block 0 : tensor<?x16xf32>
//   (param @blk.0.ffn_gate.weight is gone)
//
// The returned value is never erased. One backward sweep suffices: `forward` is straight-line SSA, so an op's
// operands are defined before it, and erasing it can only make earlier ops dead. When attention ops die (a
// bypassed block), the surviving ones keep their order and get dense kv slots 0..<n again, as the verifier requires.
import PareIR

/// Dead-code elimination: erases unused ops (never the returned value), then unreferenced parameters.
/// Statistics: `ops erased`, `parameters erased`, `kv slots renumbered`.
public struct DeadCodeElimination: Pass {
    /// `dce`.
    public let name = "dce"
    /// One line for `pare passes` and the docs.
    public let summary = "Erase ops whose results are unused, then parameters no op reads"

    /// Creates the pass (it has no options).
    public init() {}

    /// Erases dead ops (backwards), renumbers kv slots if attention died, then erases unread parameters.
    public func run(_ r: inout Rewriter, context: PassContext) throws -> PassStatistics {
        var uses: [Value: Int] = [:]
        for op in r.ops { for v in op.valueOperands { uses[v, default: 0] += 1 } }
        let returned = r.module.function.result

        var opsErased = 0
        var attentionErased = false
        for op in r.ops.reversed() where op.result != returned && uses[op.result, default: 0] == 0 {
            try r.erase(op.result)
            opsErased += 1
            attentionErased = attentionErased || op.kind.isAttention
            for v in op.valueOperands { uses[v, default: 0] -= 1 }
        }

        var renumbered = 0
        if attentionErased {
            let attention = r.ops.filter { $0.kind.isAttention }
                .enumerated().sorted { ($0.element.int("kv_slot") ?? Int.max, $0.offset) < ($1.element.int("kv_slot") ?? Int.max, $1.offset) }
                .map(\.element)
            for (slot, op) in attention.enumerated() where op.int("kv_slot") != slot {
                try r.updateOp(op.result) { $0.attributes["kv_slot"] = .int(slot) }
                renumbered += 1
            }
        }

        // Parameters ops read, and those their views read (the parts a packed parameter is built from).
        let read = Set(r.ops.flatMap(\.paramOperands))
        let referenced = read.union(r.module.parameters.filter { read.contains($0.name) }.flatMap(\.references))
        var seen = Set<String>()
        let dead = r.module.parameters.map(\.name).filter { !referenced.contains($0) && seen.insert($0).inserted }
        // A dead parameter whose views read another dead one goes first, whatever the declaration order.
        var pending = dead
        while !pending.isEmpty {
            let readByPending = Set(pending.compactMap { r.module.parameter($0) }.flatMap(\.references))
            let now = pending.filter { !readByPending.contains($0) }
            guard !now.isEmpty else { break }  // a cycle of views: the verifier rejects it; leave them
            for name in now { try r.removeParameter(name) }
            pending.removeAll { now.contains($0) }
        }

        var stats = PassStatistics()
        stats.add("ops erased", opsErased)
        stats.add("parameters erased", dead.count)
        stats.add("kv slots renumbered", renumbered)
        return stats
    }
}
