// Lazy parameters: a checkpoint tensor plus a chain of views. Weights are never held by the IR.

/// Where a parameter's data comes from: one tensor of the module's source checkpoint.
public struct TensorSource: Sendable, Hashable {
    /// The tensor's name in the checkpoint (GGUF `blk.0.attn_q.weight`, HF `model.layers.0.self_attn.q_proj.weight`).
    public var tensor: String
    /// How it is stored: `f32`, `f16`, `bf16`, `q4_0`, `q4_1`, `q5_0`, `q5_1`, `q8_0`, `q2_k` ... `q6_k`.
    public var encoding: String
    /// Its shape as stored, outermost first (row-major; GGUF's `ne` reversed).
    public var shape: [Int]

    public init(tensor: String, encoding: String, shape: [Int]) {
        self.tensor = tensor
        self.encoding = encoding
        self.shape = shape
    }
}

/// One step of a parameter's view chain, applied to the source tensor in order.
public enum ParameterView: Sendable, Hashable {
    /// Keep these rows (dimension 0), in this order.
    case rows(IndexList)
    /// Keep these columns (the last dimension), in this order.
    case cols(IndexList)
    /// Undo the row permutation GGUF conversion applies to llama Q/K projections
    /// (interleaved rotary pairs back to Hugging Face's half-split layout), for `heads` heads.
    case unpermuteRoPE(heads: Int)
    /// Stack the rows of another parameter (`rows` of them, same column count) below this one's; for vectors
    /// (biases), append its elements. Lowering packs q/k/v and gate/up into one matrix this way:
    /// `load q | append_rows(@k, rows = 128)`.
    case appendRows(String, rows: Int)
    /// Multiply column j by element j of a vector parameter: an RMS norm's weight folded into the product after it.
    case scaleCols(String)
    /// Round every row through a block format (`f16`, `q8_0`, `q4_0`, `q4_1`): the values become exactly those a
    /// plan storing the matrix in that format holds (encoded as ggml's reference quantisers do, then decoded).
    /// The `quantize` pass adds it; lowering writes the matrix in that format. Rows must be whole blocks.
    case quantize(String)

    /// The formats `quantize(...)` takes, with the elements per block a row's length must be a multiple of.
    public static let quantizeFormats: [String: Int] = ["f16": 1, "q8_0": 32, "q4_0": 32, "q4_1": 32]
    /// Bits per weight of each `quantize(...)` format, scales included.
    public static let quantizeBits: [String: Double] = ["f16": 16, "q8_0": 8.5, "q4_0": 4.5, "q4_1": 5]

    /// The parameters this view reads (besides the tensor it applies to).
    public var references: [String] {
        switch self {
        case .appendRows(let p, _), .scaleCols(let p): return [p]
        case .rows, .cols, .unpermuteRoPE, .quantize: return []
        }
    }

    /// The shape after this view, or nil when it does not apply to `shape`.
    public func apply(to shape: [Int]) -> [Int]? {
        switch self {
        case .rows(let idx):
            guard let first = shape.first, idx.allSatisfy({ $0 >= 0 && $0 < first }) else { return nil }
            return [idx.count] + shape.dropFirst()
        case .cols(let idx):
            guard let last = shape.last, idx.allSatisfy({ $0 >= 0 && $0 < last }) else { return nil }
            return shape.dropLast() + [idx.count]
        case .unpermuteRoPE(let heads):
            guard let first = shape.first, heads > 0, first % (2 * heads) == 0 else { return nil }
            return shape
        case .appendRows(_, let rows):
            guard shape.count == 1 || shape.count == 2, rows > 0 else { return nil }
            return [shape[0] + rows] + shape.dropFirst()
        case .scaleCols:
            guard !shape.isEmpty else { return nil }
            return shape
        case .quantize(let format):
            guard shape.count == 2, let block = Self.quantizeFormats[format], shape[1] % block == 0 else { return nil }
            return shape
        }
    }
}

/// A parameter: a named, typed, lazily loaded tensor. `@name` in IR text.
public struct Parameter: Sendable, Hashable {
    /// The checkpoint's own tensor name; the IR symbol is `@` + name.
    public var name: String
    /// Logical shape after the view chain.
    public var shape: [Int]
    /// Logical element type (what the interpreter materialises).
    public var dtype: DType
    public var source: TensorSource
    public var views: [ParameterView]

    public init(name: String, shape: [Int], dtype: DType = .f32, source: TensorSource, views: [ParameterView] = []) {
        self.name = name
        self.shape = shape
        self.dtype = dtype
        self.source = source
        self.views = views
    }

    /// The shape the view chain produces from the source shape, or nil if some view does not apply.
    public func derivedShape() -> [Int]? {
        var s: [Int]? = source.shape
        for v in views { s = s.flatMap { v.apply(to: $0) } }
        return s
    }

    /// Number of scalars.
    public var count: Int { shape.reduce(1, *) }

    /// The other parameters its view chain reads (packed rows, folded norm weights), in order.
    public var references: [String] { views.flatMap(\.references) }
}

/// An ordered list of indices, printed compactly as ranges: `[0..255, 300, 302..310]` (inclusive).
public struct IndexList: Sendable, Hashable, RandomAccessCollection, ExpressibleByArrayLiteral, CustomStringConvertible {
    public var indices_: [Int]
    public init(_ values: [Int]) { indices_ = values }
    public init(arrayLiteral elements: Int...) { indices_ = elements }

    public var startIndex: Int { 0 }
    public var endIndex: Int { indices_.count }
    public subscript(i: Int) -> Int { indices_[i] }

    /// True when strictly increasing (a monotone selection).
    public var isStrictlyIncreasing: Bool { zip(indices_, indices_.dropFirst()).allSatisfy { $0 < $1 } }

    /// Runs of consecutive values, as (first, last) inclusive.
    public var runs: [(Int, Int)] {
        var out: [(Int, Int)] = []
        for v in indices_ {
            if let last = out.last, last.1 + 1 == v { out[out.count - 1].1 = v } else { out.append((v, v)) }
        }
        return out
    }

    public var description: String {
        "[" + runs.map { $0.0 == $0.1 ? String($0.0) : "\($0.0)..\($0.1)" }.joined(separator: ", ") + "]"
    }
}
