// Parameter views on materialised tensors: the meaning of `rows(...)`, `cols(...)`, `unpermute_rope(...)`,
// `append_rows(...)` and `scale_cols(...)`.
import PareIR

extension ParameterView {
    /// This view applied to a materialised tensor. Throws when the view does not fit the tensor's shape.
    /// `resolve` materialises a parameter the view reads (`append_rows`, `scale_cols`).
    public func apply(to t: Tensor, parameter: String, resolve: (String) throws -> Tensor = { name in
        throw InterpreterError.missingWeight(name)
    }) throws -> Tensor {
        guard apply(to: t.shape) != nil else {
            throw InterpreterError.badOp("view \(self) does not apply to @\(parameter) of shape \(t.shape)")
        }
        let rowWidth = t.data.count / max(t.shape.first ?? 1, 1)
        switch self {
        case .rows(let idx):
            var d = [Float]()
            d.reserveCapacity(idx.count * rowWidth)
            for r in idx { d += t.data[(r * rowWidth)..<((r + 1) * rowWidth)] }
            return Tensor(shape: [idx.count] + t.shape.dropFirst(), data: d)
        case .cols(let idx):
            let width = t.shape.last ?? 1
            let rows = t.data.count / max(width, 1)
            var d = [Float](repeating: 0, count: rows * idx.count)
            t.data.withUnsafeBufferPointer { src in
                d.withUnsafeMutableBufferPointer { dst in
                    for r in 0..<rows { for (j, c) in idx.enumerated() { dst[r * idx.count + j] = src[r * width + c] } }
                }
            }
            return Tensor(shape: t.shape.dropLast() + [idx.count], data: d)
        case .unpermuteRoPE(let heads):
            // llama.cpp's converter stored row h·d + 2i + j for Hugging Face row h·d + j·(d/2) + i.
            let d = t.shape[0] / heads, half = d / 2
            var out = [Float](repeating: 0, count: t.data.count)
            for h in 0..<heads {
                for i in 0..<half {
                    for j in 0..<2 {
                        let src = (h * d + 2 * i + j) * rowWidth, dst = (h * d + j * half + i) * rowWidth
                        out.replaceSubrange(dst..<(dst + rowWidth), with: t.data[src..<(src + rowWidth)])
                    }
                }
            }
            return Tensor(shape: t.shape, data: out)
        case .appendRows(let other, let rows):
            let o = try resolve(other)
            let expected = [rows] + t.shape.dropFirst()
            guard o.shape == expected else { throw InterpreterError.weightShape(name: other, expected: expected, found: o.shape) }
            return Tensor(shape: [t.shape[0] + rows] + t.shape.dropFirst(), data: t.data + o.data)
        case .scaleCols(let other):
            let g = try resolve(other)
            let width = t.shape.last ?? 1
            guard g.shape == [width] else { throw InterpreterError.weightShape(name: other, expected: [width], found: g.shape) }
            var out = t.data
            out.withUnsafeMutableBufferPointer { o in
                g.data.withUnsafeBufferPointer { gp in
                    for r in 0..<(o.count / max(width, 1)) { for c in 0..<width { o[r * width + c] *= gp[c] } }
                }
            }
            return Tensor(shape: t.shape, data: out)
        }
    }
}
