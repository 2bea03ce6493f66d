// Parameter views on materialised tensors: the meaning of `rows(...)`, `cols(...)`, `unpermute_rope(...)`,
// `append_rows(...)`, `scale_cols(...)` and `quantize(...)`.
import CKernels
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
        case .quantize(let format):
            return try quantizeRoundTrip(t, format: format, parameter: parameter)
        }
    }
}

/// The ggml type number of a `quantize(...)` format.
public func ggmlType(quantizeFormat f: String) -> Int32? {
    switch f {
    case "f16": return Int32(PK_F16)
    case "q8_0": return Int32(PK_Q8_0)
    case "q4_0": return Int32(PK_Q4_0)
    case "q4_1": return Int32(PK_Q4_1)
    default: return nil
    }
}

/// `t`'s rows encoded in `format` (C kernels' encoder), as bytes, rows back to back.
public func encodeRows(_ t: Tensor, format: String, parameter: String) throws -> [UInt8] {
    guard let type = ggmlType(quantizeFormat: format), t.shape.count == 2 else {
        throw InterpreterError.badOp("quantize(\(format)) of @\(parameter): not a matrix in a known format")
    }
    let (rows, n) = (t.shape[0], t.shape[1])
    let rowBytes = pk_row_bytes(type, Int64(n))
    guard rowBytes > 0 || n == 0 else {
        throw InterpreterError.badOp("quantize(\(format)) of @\(parameter): rows of \(n) are not whole blocks")
    }
    var out = [UInt8](repeating: 0, count: rows * rowBytes)
    var bad = -1
    t.data.withUnsafeBufferPointer { x in
        out.withUnsafeMutableBytes { o in
            for r in 0..<rows where bad < 0 {
                if pk_quantize_row(type, x.baseAddress! + r * n, o.baseAddress! + r * rowBytes, Int64(n)) != 0 { bad = r }
            }
        }
    }
    guard bad < 0 else {
        throw InterpreterError.badOp("quantize(\(format)) of @\(parameter): row \(bad) holds a value that is not finite")
    }
    return out
}

/// `t` rounded through `format`: encoded, then decoded, row by row (exactly the values a plan in that format holds).
func quantizeRoundTrip(_ t: Tensor, format: String, parameter: String) throws -> Tensor {
    let bytes = try encodeRows(t, format: format, parameter: parameter)
    let (rows, n) = (t.shape[0], t.shape[1])
    guard let type = ggmlType(quantizeFormat: format) else { return t }
    let rowBytes = pk_row_bytes(type, Int64(n))
    var out = [Float](repeating: 0, count: rows * n)
    bytes.withUnsafeBytes { b in
        out.withUnsafeMutableBufferPointer { o in
            for r in 0..<rows { pk_dequantize_row(type, b.baseAddress! + r * rowBytes, o.baseAddress! + r * n, Int64(n)) }
        }
    }
    return Tensor(shape: t.shape, data: out)
}
