// Matrix products: sgemv for one row (decode), sgemm for several (prefill); folded RMS norms scale the output.
import CBLAS

enum MatrixKernels {
    /// y[r] = s_r * (x[r] W^T) + b for rows first..<first+count, s_r = 1/sqrt(mean(x[r]^2) + eps) when a norm was
    /// folded in (its weight is already in W's columns), else 1. x `[rows, in]`, y `[rows, out]`, disjoint.
    static func product(x: Rows, _ m: MatrixOperand, y: Rows, first: Int, count: Int) {
        let k = m.inWidth, n = m.outWidth
        let xp = x.row(first), yp = y.row(first)
        if count == 1 {
            // One row: matrix-vector, the norm's scale rides in alpha.
            let alpha = m.normEps.map { inverseRMS(xp, k, eps: $0) } ?? 1
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), alpha, m.weight, Int32(k), xp, 1, 0, yp, 1)
            if let b = m.bias { addInPlace(yp, b, n) }
            return
        }
        // Y[count, n] = X[count, k] · W[n, k]^T
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(count), Int32(n), Int32(k), 1,
                    xp, Int32(x.stride), m.weight, Int32(k), 0, yp, Int32(y.stride))
        if let eps = m.normEps {
            for r in first..<first + count {
                scaleInPlace(y.row(r), by: inverseRMS(x.row(r), k, eps: eps), bias: m.bias, n)
            }
        } else if let b = m.bias {
            for r in first..<first + count { addInPlace(y.row(r), b, n) }
        }
    }
}
