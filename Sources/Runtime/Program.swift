// The checked program: each plan step resolved to pointers into the arena and the weight blob.
//
// `PlanCheck.swift` and `Instructions.swift` build it once, after every step passed its checks; the session then runs it per chunk
// without lookups, bounds checks or allocation.

/// Rows of an activation in the arena: row r starts at `base + r * stride`.
struct Rows {
    let base: UnsafeMutablePointer<Float>
    /// Floats between consecutive rows (the buffer's width; wider for a part of a fused buffer).
    let stride: Int

    @inline(__always) func row(_ r: Int) -> UnsafeMutablePointer<Float> { base + r * stride }
    /// The same rows, starting `columns` floats further into each row.
    func shifted(_ columns: Int) -> Rows { Rows(base: base + columns, stride: stride) }
}

/// A matrix product's weights: `y = (s_r * x ⊙ g) W^T + b`, s_r = 1/rms(x_r) when a norm was folded in (else 1),
/// g the norm's gain when the plan keeps it apart from W (else 1).
struct MatrixOperand {
    /// `[outWidth, inWidth]` f32, row-major, when W is one f32 tensor and there is no gain: the BLAS path.
    let weight: UnsafePointer<Float>?
    /// W as row-stacked parts in their own dtypes (the kernel path); empty on the BLAS path.
    let parts: [MatrixPart]
    /// `[outWidth]`
    let bias: UnsafePointer<Float>?
    /// `[inWidth]`: the norm's weight, multiplied into the normalised activation.
    let gain: UnsafePointer<Float>?
    let outWidth: Int
    let inWidth: Int
    /// The folded RMS norm's epsilon; nil when the input is used as is.
    let normEps: Float?
}

/// Rows `rowOffset ..< rowOffset + rows` of a matrix, in the C kernels' format `type` (ggml's type number).
struct MatrixPart {
    let type: Int32
    let base: UnsafeRawPointer
    let rows: Int
    let rowOffset: Int
    /// Which activation scratch the part reads (`ActivationKind`), and the bytes of one quantised activation row.
    let kind: Int
    let actBytes: Int
}

/// The activation formats the kernels pair weights with: float32 (f32, f16 weights), 32-element and 256-element
/// 8-bit blocks.
enum ActivationKind {
    static func of(blockElements: Int) -> Int { blockElements == 1 ? 0 : blockElements == 32 ? 1 : 2 }
    static let count = 3
}

/// An embedding table: row t is `rowBytes` bytes at `base + t * rowBytes`, in kernel format `type`.
struct EmbeddingTable {
    let type: Int32
    let base: UnsafeRawPointer
    let rowBytes: Int
}

/// Operands of (fused or separate) causal grouped-query attention.
struct AttentionOperands {
    /// `[rows, heads * headDim]` (possibly a part of a fused qkv buffer).
    let q: Rows
    /// `[rows, kvHeads * headDim]`
    let k: Rows
    /// `[rows, kvHeads * headDim]`
    let v: Rows
    /// `[rows, heads * headDim]`
    let out: Rows
    let heads: Int
    let kvHeads: Int
    let headDim: Int
    let slot: Int
}

/// A rotary embedding's frequencies; the session fills cos/sin tables per chunk for each distinct one.
struct RopeConfig: Equatable {
    let headDim: Int
    let theta: Double
}

/// The checked, resolved program of a plan.
struct Program {
    var instructions: [Instruction]
    /// Instructions from here on act row by row (they come after the last attention): when only the last
    /// position's logits are wanted they run on that row alone, and not at all for earlier chunks.
    var tailStart: Int
    /// Distinct rotary configurations; `rope`/`qkvRope` name them by index.
    var ropeConfigs: [RopeConfig]
    /// The widest fused gate;up product (2 * ffn), for the swiglu scratch; 0 when there is none.
    var swigluWidth: Int
    /// Per `ActivationKind`: the largest quantised activation row (bytes) a kernel-path product reads.
    var activationBytes: [Int]

    /// The widest input of a kernel-path product (floats), for the prefill scratch; 0 when there is none.
    var kernelInputWidth: Int {
        instructions.reduce(0) { w, i in i.matrix.map { $0.weight == nil ? max(w, $0.inWidth) : w } ?? w }
    }

    /// True when some matrix product runs on BLAS (an f32 matrix), not on the C kernels.
    var usesBLASMatrices: Bool {
        instructions.contains { $0.matrix?.weight != nil }
    }
}
