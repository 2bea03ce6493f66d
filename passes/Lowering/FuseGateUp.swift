// fuse-gate-up: one matrix product for the FFN's gate and up projections, with SwiGLU applied to its halves.
//
//   %11 = linear %10, @blk.0.ffn_gate.weight block 0 : tensor<?x4864xf32>
//   %12 = linear %10, @blk.0.ffn_up.weight block 0 : tensor<?x4864xf32>
//   %13 = silu %11 block 0 : tensor<?x4864xf32>
//   %14 = mul %13, %12 block 0 : tensor<?x4864xf32>
// ->
//   param @blk.0.ffn_gate_up.weight : tensor<9728x896xf32> = load "blk.0.ffn_gate.weight" q4_k [4864, 896]
//       | append_rows(@blk.0.ffn_up.weight, rows = 4864)
//   %11 = swiglu %10, @blk.0.ffn_gate_up.weight block 0 : tensor<?x4864xf32>
//
// Fuses `mul(silu(gate), up)` only when gate and up are bias-free linears of the same value, of equal width,
// and the silu and both linears have no other reader. Exact.
import PareIR

/// Packs gate and up into one product with SwiGLU (`swiglu`). Statistics: `ffn fused`, `ffn left`.
public struct FuseGateUp: Pass {
    /// `fuse-gate-up`.
    public let name = "fuse-gate-up"
    /// One line for `pare passes` and the docs.
    public let summary = "Lowering: pack gate and up into one product followed by SwiGLU (swiglu)"

    /// Creates the pass (it has no options).
    public init() {}

    /// Fuses every `mul(silu(linear), linear)` that matches the pattern in the file header.
    public func run(_ r: inout Rewriter, context: PassContext) throws -> PassStatistics {
        var fused = 0, left = 0
        for mul in r.ops where mul.kind == .mul {
            guard let siluV = mul.valueOperands.first, let silu = r.definingOp(of: siluV), silu.kind == .silu else { continue }
            if try fuse(mul, silu, &r) { fused += 1 } else { left += 1 }
        }
        var stats = PassStatistics()
        stats.add("ffn fused", fused)
        stats.add("ffn left", left)
        return stats
    }

    func fuse(_ mul: Op, _ silu: Op, _ r: inout Rewriter) throws -> Bool {
        func only(_ v: Value, readBy op: Op) -> Bool {
            let users = r.uses(of: v)
            return users.count == 1 && users[0].result == op.result && r.module.function.result != v
        }
        guard mul.valueOperands.count == 2, let gateV = silu.valueOperands.first,
              let gate = r.definingOp(of: gateV), gate.kind == .linear,
              let up = r.definingOp(of: mul.valueOperands[1]), up.kind == .linear,
              gate.operands.count == 2, up.operands.count == 2, gate.attributes.isEmpty, up.attributes.isEmpty,
              let x = gate.valueOperands.first, up.valueOperands.first == x, gate.type == up.type,
              only(gate.result, readBy: silu), only(silu.result, readBy: mul), only(up.result, readBy: mul),
              let wg = gate.paramOperands.first.flatMap(r.module.parameter),
              let wu = up.paramOperands.first.flatMap(r.module.parameter),
              wg.references.isEmpty, wu.references.isEmpty
        else { return false }
        let names = [("ffn_gate.", "ffn_gate_up."), ("gate_proj.", "gate_up_proj.")]
        let w = r.declarePacked(packedName(wg.name, replacing: names, suffix: "gate_up"), first: wg, rest: [wu])
        let first = r.ops.first { $0.result == gate.result || $0.result == up.result }!.result
        let out = try r.insert(.swiglu, [.value(x), .param(w.name)], block: mul.block, type: mul.type, before: first)
        _ = r.replaceAllUses(of: mul.result, with: out)
        for v in [mul.result, silu.result, gate.result, up.result] { try r.erase(v) }
        return true
    }
}
