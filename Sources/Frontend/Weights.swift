// Materialising parameters: read the source tensor as float32, then apply the view chain.
import PareCheckpoint
import PareIR
import PareInterpreter

/// Reads every parameter of `module` from `reader` and applies its views. A tensor shared by two
/// parameters (or by the embedding and a tied LM head) is read once.
public func materializeWeights(_ module: Module, from reader: TensorReader) throws -> [String: Tensor] {
    var out: [String: Tensor] = [:]
    var raw: [String: [Float]] = [:]  // only tensors that more than one parameter reads
    var uses: [String: Int] = [:]
    for p in module.parameters { uses[p.source.tensor, default: 0] += 1 }
    for p in module.parameters {
        guard let info = reader.info(p.source.tensor) else { throw LiftError.missingTensor(path: reader.path, tensor: p.source.tensor) }
        guard info.shape == p.source.shape else {
            throw LiftError.tensorShape(path: reader.path, tensor: p.source.tensor, expected: p.source.shape, found: info.shape)
        }
        let data: [Float]
        if let d = raw[p.source.tensor] { data = d } else {
            data = try reader.readFloat32(p.source.tensor)
            if uses[p.source.tensor, default: 0] > 1 { raw[p.source.tensor] = data }
        }
        var t = Tensor(shape: info.shape, data: data)
        for v in p.views { t = try apply(v, to: t, parameter: p.name) }
        guard t.shape == p.shape else {
            throw InterpreterError.weightShape(name: p.name, expected: p.shape, found: t.shape)
        }
        out[p.name] = t
    }
    return out
}

/// One view of the chain, on a materialised tensor.
func apply(_ view: ParameterView, to t: Tensor, parameter: String) throws -> Tensor {
    guard view.apply(to: t.shape) != nil else {
        throw InterpreterError.badOp("view \(view) does not apply to @\(parameter) of shape \(t.shape)")
    }
    let rowWidth = t.data.count / max(t.shape.first ?? 1, 1)
    switch view {
    case .rows(let idx):
        var d = [Float]()
        d.reserveCapacity(idx.count * rowWidth)
        for r in idx { d += t.data[(r * rowWidth)..<((r + 1) * rowWidth)] }
        return Tensor(shape: [idx.count] + t.shape.dropFirst(), data: d)
    case .cols(let idx):
        let width = t.shape.last ?? 1
        let rows = t.data.count / max(width, 1)
        var d = [Float](repeating: 0, count: rows * idx.count)
        for r in 0..<rows { for (j, c) in idx.enumerated() { d[r * idx.count + j] = t.data[r * width + c] } }
        return Tensor(shape: t.shape.dropLast() + [idx.count], data: d)
    case .unpermuteRoPE(let heads):
        // llama.cpp's converter stored row h·d + 2i + j for Hugging Face row h·d + j·(d/2) + i.
        let rows = t.shape[0], d = rows / heads, half = d / 2
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
    }
}
