// fold-norms: an RMS norm read only by matrix products is folded into them: its weight scales the products'
// weight columns, and each product normalises its input itself (attribute `eps`).
//
//   %1 = rms_norm %0, @blk.0.attn_norm.weight {eps = 1e-06} block 0 : tensor<?x896xf32>
//   %2 = qkv_rope %1, @blk.0.attn_qkv.weight, @blk.0.attn_qkv.bias {...} block 0 : tensor<?x1152xf32>
// ->
//   param @blk.0.attn_qkv.weight : tensor<1152x896xf32> = load "blk.0.attn_q.weight" q4_k [896, 896] | ...
//       | scale_cols(@blk.0.attn_norm.weight)
//   %1 = qkv_rope %0, @blk.0.attn_qkv.weight, @blk.0.attn_qkv.bias {eps = 1e-06, ...} block 0 : tensor<?x1152xf32>
//
// (x / rms(x) * g) W^T = (x / rms(x)) (W diag(g))^T, so the fold is exact up to rounding. A norm with any other
// reader (or returned) is left alone. A weight that something else also reads (the tied embedding table read by
// the LM head, say) is copied to `<name>.folded` rather than scaled in place.
import PareIR

/// Folds RMS norms into the products that read them. Statistics: `norms folded`, `norms left`, `weights copied`.
public struct FoldNorms: Pass {
    /// `fold-norms`.
    public let name = "fold-norms"
    /// One line for `pare passes` and the docs.
    public let summary = "Lowering: fold each RMS norm into the matrix products that read it (weight into columns)"

    /// Creates the pass (it has no options).
    public init() {}

    static let products: Set<OpKind> = [.linear, .qkvRope, .swiglu]

    /// Folds every norm whose readers are all products that read it as their input and have no `eps` yet.
    public func run(_ r: inout Rewriter, context: PassContext) throws -> PassStatistics {
        var folded = 0, left = 0, copied = 0
        for norm in r.ops where norm.kind == .rmsNorm {
            let users = r.uses(of: norm.result)
            guard let x = norm.valueOperands.first, let g = norm.paramOperands.first, let eps = norm.attributes["eps"],
                  r.module.function.result != norm.result, !users.isEmpty,
                  users.allSatisfy({ Self.products.contains($0.kind) && $0.attributes["eps"] == nil
                      && $0.operands.first == .value(norm.result) && $0.valueOperands.count == 1 }),
                  let gp = r.module.parameter(g), gp.references.isEmpty
            else { left += 1; continue }
            for user in users {
                guard let wName = user.paramOperands.first, var w = r.module.parameter(wName) else { continue }
                let sharedWith = r.users(ofParameter: wName).count - 1
                    + r.module.parameters.filter { $0.references.contains(wName) }.count
                if sharedWith > 0 {
                    w.name = r.freshParameterName(wName + ".folded")
                    copied += 1
                }
                w.views.append(.scaleCols(g))
                r.setParameter(w)
                try r.updateOp(user.result) { op in
                    op.operands[0] = .value(x)
                    op.operands[1] = .param(w.name)
                    op.attributes["eps"] = eps
                }
            }
            try r.erase(norm.result)
            folded += 1
        }
        var stats = PassStatistics()
        stats.add("norms folded", folded)
        stats.add("norms left", left)
        stats.add("weights copied", copied)
        return stats
    }
}
