// A dense float32 tensor: the interpreter's only runtime value.

/// A row-major float32 tensor. `shape` outermost first; `data.count == shape.product`.
public struct Tensor: Sendable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "tensor data does not match its shape")
        self.shape = shape
        self.data = data
    }

    /// A zero-filled tensor.
    public init(zeros shape: [Int]) {
        self.shape = shape
        self.data = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// Rows of a matrix (`shape[0]`), or 1 for a vector.
    public var rows: Int { shape.count >= 2 ? shape[0] : 1 }
    /// Width of the last dimension.
    public var cols: Int { shape.last ?? 1 }

    /// Row `r` of a matrix, copied.
    public func row(_ r: Int) -> ArraySlice<Float> { data[(r * cols)..<((r + 1) * cols)] }
}
