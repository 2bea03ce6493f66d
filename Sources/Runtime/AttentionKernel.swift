// Causal grouped-query attention over a KV-cache slot: sgemv per head for one row, sgemm per head for a chunk.
import CBLAS

/// One attention slot's cache and the scratch its scores use.
struct AttentionMemory {
    /// `[maxContext, kvHeads * headDim]`
    let keys: UnsafeMutablePointer<Float>
    /// `[maxContext, kvHeads * headDim]`
    let values: UnsafeMutablePointer<Float>
    /// `[maxRows, maxContext]`, shared by all slots.
    let scores: UnsafeMutablePointer<Float>
}

enum AttentionKernel {
    /// Appends the chunk's `rows` keys and values at positions past..<past+rows, then for each query head h
    /// (KV head g = h / (heads / kvHeads)): out_h = softmax(q_h K_g^T / sqrt(d), causal) V_g.
    static func run(_ a: AttentionOperands, past: Int, rows m: Int, memory: AttentionMemory) {
        let d = a.headDim, kvWidth = a.kvHeads * d
        for r in 0..<m {
            (memory.keys + (past + r) * kvWidth).update(from: a.k.row(r), count: kvWidth)
            (memory.values + (past + r) * kvWidth).update(from: a.v.row(r), count: kvWidth)
        }
        let length = past + m
        let group = a.heads / a.kvHeads
        let scale = 1 / Float(d).squareRoot()
        let s = memory.scores
        if m == 1 {
            let q = a.q.row(0), out = a.out.row(0)
            for h in 0..<a.heads {
                let g = h / group
                // s[L] = scale · K_g[L, d] · q_h[d]
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(length), Int32(d), scale, memory.keys + g * d, Int32(kvWidth),
                            q + h * d, 1, 0, s, 1)
                Elementwise.softmax(s, length)
                // out_h[d] = V_g[L, d]^T · s[L]
                cblas_sgemv(CblasRowMajor, CblasTrans, Int32(length), Int32(d), 1, memory.values + g * d, Int32(kvWidth),
                            s, 1, 0, out + h * d, 1)
            }
            return
        }
        for h in 0..<a.heads {
            let g = h / group
            // S[m, L] = scale · Q_h[m, d] · K_g[L, d]^T
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(length), Int32(d), scale,
                        a.q.base + h * d, Int32(a.q.stride), memory.keys + g * d, Int32(kvWidth), 0, s, Int32(length))
            for i in 0..<m {
                let row = s + i * length
                let visible = past + i + 1
                Elementwise.softmax(row, visible)
                for j in visible..<length { row[j] = 0 }
            }
            // O_h[m, d] = S[m, L] · V_g[L, d]
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(d), Int32(length), 1,
                        s, Int32(length), memory.values + g * d, Int32(kvWidth), 0, a.out.base + h * d, Int32(a.out.stride))
        }
    }
}
