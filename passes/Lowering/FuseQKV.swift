// fuse-qkv: one matrix product for q, k and v (rows packed, biases packed), rope applied to its q and k parts,
// and attention reading the packed value.
//
//   %2 = linear %1, @blk.0.attn_q.weight, @blk.0.attn_q.bias block 0 : tensor<?x896xf32>
//   %3 = linear %1, @blk.0.attn_k.weight, @blk.0.attn_k.bias block 0 : tensor<?x128xf32>
//   %4 = linear %1, @blk.0.attn_v.weight, @blk.0.attn_v.bias block 0 : tensor<?x128xf32>
//   %5 = rope %2 {head_dim = 64, heads = 14, theta = 1000000.0} block 0 : tensor<?x896xf32>
//   %6 = rope %3 {head_dim = 64, heads = 2, theta = 1000000.0} block 0 : tensor<?x128xf32>
//   %7 = attention %5, %6, %4 {head_dim = 64, heads = 14, kv_heads = 2, kv_slot = 0} block 0 : tensor<?x896xf32>
// ->
//   param @blk.0.attn_qkv.weight : tensor<1152x896xf32> = load "blk.0.attn_q.weight" q4_k [896, 896]
//       | append_rows(@blk.0.attn_k.weight, rows = 128) | append_rows(@blk.0.attn_v.weight, rows = 128)
//   %2 = qkv_rope %1, @blk.0.attn_qkv.weight, @blk.0.attn_qkv.bias {head_dim = 64, heads = 14, kv_heads = 2,
//        theta = 1000000.0} block 0 : tensor<?x1152xf32>
//   %3 = attention_qkv %2 {head_dim = 64, heads = 14, kv_heads = 2, kv_slot = 0} block 0 : tensor<?x896xf32>
//
// Fuses an attention op only when its q and k are ropes (same theta; heads and head_dim those of the attention's
// q and kv heads) of linears, v a linear, all three linears
// read the same value, none of them (nor the ropes) is read by anything else, and either all three have a bias
// or none has. Exact: the packed product computes the same sums as the three products.
import PareIR

/// Packs q/k/v into one product with rope (`qkv_rope`) feeding `attention_qkv`.
/// Statistics: `attention fused`, `attention left`.
public struct FuseQKV: Pass {
    /// `fuse-qkv`.
    public let name = "fuse-qkv"
    /// One line for `pare passes` and the docs.
    public let summary = "Lowering: pack q, k, v into one product with bias and rope, read by attention_qkv"

    /// Creates the pass (it has no options).
    public init() {}

    /// Fuses every attention op that matches the pattern in the file header.
    public func run(_ r: inout Rewriter, context: PassContext) throws -> PassStatistics {
        var fused = 0, left = 0
        for attention in r.ops where attention.kind == .attention {
            if try fuse(attention, &r) { fused += 1 } else { left += 1 }
        }
        var stats = PassStatistics()
        stats.add("attention fused", fused)
        stats.add("attention left", left)
        return stats
    }

    /// The single reader of `v`, if it has exactly one and `v` is not returned.
    func soleUser(of v: Value, _ r: Rewriter) -> Op? {
        let users = r.uses(of: v)
        guard users.count == 1, r.module.function.result != v else { return nil }
        return users[0]
    }

    func fuse(_ attention: Op, _ r: inout Rewriter) throws -> Bool {
        let vals = attention.valueOperands
        guard vals.count == 3,
              let qRope = r.definingOp(of: vals[0]), qRope.kind == .rope,
              let kRope = r.definingOp(of: vals[1]), kRope.kind == .rope,
              let vLin = r.definingOp(of: vals[2]), vLin.kind == .linear,
              let qV = qRope.valueOperands.first, let qLin = r.definingOp(of: qV), qLin.kind == .linear,
              let kV = kRope.valueOperands.first, let kLin = r.definingOp(of: kV), kLin.kind == .linear,
              qRope.double("theta") == kRope.double("theta"), let theta = qRope.attributes["theta"],
              let x = qLin.valueOperands.first, kLin.valueOperands.first == x, vLin.valueOperands.first == x,
              [qLin, kLin, vLin].allSatisfy({ $0.attributes.isEmpty }),
              soleUser(of: qLin.result, r)?.result == qRope.result, soleUser(of: kLin.result, r)?.result == kRope.result,
              soleUser(of: qRope.result, r)?.result == attention.result, soleUser(of: kRope.result, r)?.result == attention.result,
              soleUser(of: vLin.result, r)?.result == attention.result,
              let heads = attention.int("heads"), let kvHeads = attention.int("kv_heads"), let headDim = attention.int("head_dim"),
              qRope.int("heads") == heads, kRope.int("heads") == kvHeads,
              qRope.int("head_dim") == headDim, kRope.int("head_dim") == headDim,
              qRope.result != kRope.result, Set([qLin.result, kLin.result, vLin.result]).count == 3
        else { return false }
        let lins = [qLin, kLin, vLin]
        let weights = lins.compactMap { $0.paramOperands.first.flatMap(r.module.parameter) }
        let biases = lins.compactMap { $0.paramOperands.dropFirst().first.flatMap(r.module.parameter) }
        guard weights.count == 3, weights.allSatisfy({ $0.references.isEmpty && $0.shape.count == 2 }),
              biases.isEmpty || (biases.count == 3 && biases.allSatisfy { $0.references.isEmpty })
        else { return false }

        let names = [("attn_q.", "attn_qkv."), ("q_proj.", "qkv_proj.")]
        let w = r.declarePacked(packedName(weights[0].name, replacing: names, suffix: "qkv"), first: weights[0], rest: Array(weights.dropFirst()))
        var operands: [Operand] = [.value(x), .param(w.name)]
        if biases.count == 3 {
            let b = r.declarePacked(packedName(biases[0].name, replacing: names, suffix: "qkv"), first: biases[0], rest: Array(biases.dropFirst()))
            operands.append(.param(b.name))
        }
        let first = r.ops.first { lins.map(\.result).contains($0.result) }!.result
        let qkv = try r.insert(.qkvRope, operands,
                               ["heads": .int(heads), "kv_heads": .int(kvHeads), "head_dim": .int(headDim), "theta": theta],
                               block: attention.block, type: .activations(w.shape[0]), before: first)
        let out = try r.insert(.attentionQKV, [.value(qkv)], attention.attributes, block: attention.block, type: attention.type,
                               before: attention.result)
        _ = r.replaceAllUses(of: attention.result, with: out)
        for v in [attention.result, qRope.result, kRope.result, qLin.result, kLin.result, vLin.result] { try r.erase(v) }
        return true
    }
}
