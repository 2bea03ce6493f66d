// Matrix products: sgemv for one row (decode), sgemm for several (prefill); folded RMS norms scale the output.
import CBLAS
import CKernels

enum MatrixKernels {
    /// y[r] = (s_r * x[r] ⊙ g) W^T + b for rows first..<first+count, s_r = 1/sqrt(mean(x[r]^2) + eps) when a norm
    /// was folded in, else 1; g the kept-apart norm gain, else 1. x `[rows, in]`, y `[rows, out]`, disjoint.
    /// `scratch[kind]` holds `count` quantised activation rows for the kernel path.
    static func product(x: Rows, _ m: MatrixOperand, y: Rows, first: Int, count: Int, scratch: [UnsafeMutableRawPointer],
                        floats: UnsafeMutablePointer<Float>, dequantizeFrom: Int = prefillRows) {
        guard let weight = m.weight else {
            if count >= dequantizeFrom {
                dequantizedProduct(x: x, m, y: y, first: first, count: count, scratch: floats)
            } else {
                quantizedProduct(x: x, m, y: y, first: first, count: count, scratch: scratch)
            }
            return
        }
        let k = m.inWidth, n = m.outWidth
        let xp = x.row(first), yp = y.row(first)
        if count == 1 {
            // One row: matrix-vector, the norm's scale rides in alpha.
            let alpha = m.normEps.map { inverseRMS(xp, k, eps: $0) } ?? 1
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), alpha, weight, Int32(k), xp, 1, 0, yp, 1)
            if let b = m.bias { addInPlace(yp, b, n) }
            return
        }
        // Y[count, n] = X[count, k] · W[n, k]^T
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(count), Int32(n), Int32(k), 1,
                    xp, Int32(x.stride), weight, Int32(k), 0, yp, Int32(y.stride))
        if let eps = m.normEps {
            for r in first..<first + count {
                scaleInPlace(y.row(r), by: inverseRMS(x.row(r), k, eps: eps), bias: m.bias, n)
            }
        } else if let b = m.bias {
            for r in first..<first + count { addInPlace(y.row(r), b, n) }
        }
    }

    /// From this many rows on (prefill), block weights are dequantised in tiles and multiplied by sgemm with float
    /// activations, so prompt logits match the interpreter's; a single row (decode) quantises its activation to
    /// 8 bits and uses integer dot products, as llama.cpp does.
    static let prefillRows = 2

    /// The prefill path: x scaled (norm, gain) into `scratch` `[count, in]`, then each part's tiles by sgemm.
    private static func dequantizedProduct(x: Rows, _ m: MatrixOperand, y: Rows, first: Int, count: Int,
                                           scratch: UnsafeMutablePointer<Float>) {
        let k = m.inWidth
        for r in 0..<count {
            let xr = x.row(first + r), out = scratch + r * k
            let scale = m.normEps.map { inverseRMS(xr, k, eps: $0) } ?? 1
            if let g = m.gain {
                for i in 0..<k { out[i] = xr[i] * scale * g[i] }
            } else {
                for i in 0..<k { out[i] = xr[i] * scale }
            }
        }
        for part in m.parts {
            pk_matmul_f32(part.type, part.base, Int64(k), Int64(part.rows), scratch, Int64(count), Int64(k),
                          y.row(first) + part.rowOffset, Int64(y.stride))
        }
        if let b = m.bias {
            for r in first..<first + count { addInPlace(y.row(r), b, m.outWidth) }
        }
    }

    /// The kernel path: each row's activation quantised once per activation kind (norm scale and gain applied on
    /// the way), then each part's rows by the C kernels on the thread pool.
    private static func quantizedProduct(x: Rows, _ m: MatrixOperand, y: Rows, first: Int, count: Int,
                                         scratch: [UnsafeMutableRawPointer]) {
        let k = m.inWidth
        var quantized = 0 // bit per activation kind
        for part in m.parts {
            let act = scratch[part.kind]
            if quantized & (1 << part.kind) == 0 {
                for r in 0..<count {
                    let xr = x.row(first + r)
                    let scale = m.normEps.map { inverseRMS(xr, k, eps: $0) } ?? 1
                    pk_quantize_act(part.type, xr, m.gain, scale, Int64(k), act + r * part.actBytes)
                }
                quantized |= 1 << part.kind
            }
            pk_matmul(part.type, part.base, Int64(k), Int64(part.rows), act, part.actBytes, Int64(count),
                      y.row(first) + part.rowOffset, Int64(y.stride))
        }
        if let b = m.bias {
            for r in first..<first + count { addInPlace(y.row(r), b, m.outWidth) }
        }
    }
}
