// Types of IR values: element types and tensor shapes with a symbolic sequence dimension.

/// The element type of a tensor value or a parameter.
public enum DType: String, Sendable, Hashable, CaseIterable {
    case f32, f16, bf16, i32
}

/// One dimension of a tensor type: a static size or the symbolic sequence length `?`.
public enum Dim: Sendable, Hashable, CustomStringConvertible {
    case fixed(Int)
    /// The sequence length, unknown until run time. Printed as `?`.
    case seq

    public var description: String {
        switch self {
        case .fixed(let n): return String(n)
        case .seq: return "?"
        }
    }

    /// The static size, or nil for the symbolic sequence dimension.
    public var size: Int? {
        if case .fixed(let n) = self { return n }
        return nil
    }
}

/// The type of an SSA value: `tensor<?x896xf32>`.
public struct TensorType: Sendable, Hashable, CustomStringConvertible {
    /// Dimensions, outermost first.
    public var shape: [Dim]
    public var dtype: DType

    public init(_ shape: [Dim], _ dtype: DType = .f32) {
        self.shape = shape
        self.dtype = dtype
    }

    /// `[seq, n]` in float32: the type of most activations.
    public static func activations(_ n: Int) -> TensorType { TensorType([.seq, .fixed(n)]) }

    public var rank: Int { shape.count }

    public var description: String {
        "tensor<" + (shape.map(\.description) + [dtype.rawValue]).joined(separator: "x") + ">"
    }
}
