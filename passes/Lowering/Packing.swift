// Shared by the lowering passes: naming and declaring packed parameters (view chains that stack or scale).
import PareIR

extension Rewriter {
    /// A parameter name not yet declared: `base`, else `base.2`, `base.3`, ...
    func freshParameterName(_ base: String) -> String {
        guard module.parameter(base) != nil else { return base }
        var n = 2
        while module.parameter("\(base).\(n)") != nil { n += 1 }
        return "\(base).\(n)"
    }

    /// Declares `first`'s rows with the rows of `rest` appended in order (`load first | append_rows(@r, ...)`),
    /// named `name`. Every part must be a loaded parameter (no views that read others) of the same width.
    mutating func declarePacked(_ name: String, first: Parameter, rest: [Parameter]) -> Parameter {
        var p = first
        p.name = freshParameterName(name)
        for r in rest {
            p.views.append(.appendRows(r.name, rows: r.shape[0]))
            p.shape[0] += r.shape[0]
        }
        setParameter(p)
        return p
    }
}

/// `blk.0.attn_q.weight` -> `blk.0.attn_qkv.weight`: the first `from` in `name` replaced, else `name` + `.` + `suffix`.
func packedName(_ name: String, replacing from: [(String, String)], suffix: String) -> String {
    for (a, b) in from where name.contains(a) {
        if let r = name.range(of: a) { return name.replacingCharacters(in: r, with: b) }
    }
    return name + "." + suffix
}
