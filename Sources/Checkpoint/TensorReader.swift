// The interface every checkpoint format implements: tensor infos and float32 materialisation.

/// What a checkpoint says about one tensor.
public struct TensorInfo: Sendable, Hashable {
    /// The checkpoint's own name for it.
    public var name: String
    /// Storage encoding, lower case: `f32`, `f16`, `bf16`, `q4_0`, `q4_1`, `q5_0`, `q5_1`, `q8_0`,
    /// `q2_k`, `q3_k`, `q4_k`, `q5_k`, `q6_k`.
    public var encoding: String
    /// Shape, outermost first, row-major (for GGUF: `ne` reversed, so `[rows, cols]` of a matrix).
    public var shape: [Int]

    public init(name: String, encoding: String, shape: [Int]) {
        self.name = name
        self.encoding = encoding
        self.shape = shape
    }

    /// Number of scalars.
    public var count: Int { shape.reduce(1, *) }
}

/// A source of tensors: a GGUF file or a Hugging Face directory.
public protocol TensorReader: AnyObject, Sendable {
    /// The file or directory, for messages.
    var path: String { get }
    /// Every tensor, in file order.
    var tensorInfos: [TensorInfo] { get }
    /// The tensor with this name, if present.
    func info(_ name: String) -> TensorInfo?
    /// Dequantises/converts a whole tensor to float32 into `out` (exactly `info.count` elements, row-major).
    func readFloat32(_ name: String, into out: UnsafeMutableBufferPointer<Float>) throws
}

extension TensorReader {
    /// Reads a whole tensor as a new float32 array.
    public func readFloat32(_ name: String) throws -> [Float] {
        guard let i = info(name) else { throw CheckpointError.missingTensor(path: path, tensor: name) }
        return try [Float](unsafeUninitializedCapacity: i.count) { buf, n in
            try readFloat32(name, into: buf)
            n = i.count
        }
    }
}

/// The hyper-parameters of a decoder-only transformer, as both GGUF metadata and config.json give them.
public struct ModelConfig: Sendable, Hashable {
    /// `llama`, `qwen2`, `mistral`.
    public var architecture: String
    public var name: String
    public var hidden: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var ffn: Int
    public var vocabSize: Int
    public var rmsNormEps: Double
    public var ropeTheta: Double
    public var contextLength: Int
    /// True when the LM head shares the embedding table.
    public var tiedEmbeddings: Bool
    /// True when q/k/v projections carry a bias (qwen2).
    public var attentionBias: Bool

    public init(architecture: String, name: String, hidden: Int, layers: Int, heads: Int, kvHeads: Int, headDim: Int,
                ffn: Int, vocabSize: Int, rmsNormEps: Double, ropeTheta: Double, contextLength: Int,
                tiedEmbeddings: Bool, attentionBias: Bool) {
        self.architecture = architecture
        self.name = name
        self.hidden = hidden
        self.layers = layers
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.ffn = ffn
        self.vocabSize = vocabSize
        self.rmsNormEps = rmsNormEps
        self.ropeTheta = ropeTheta
        self.contextLength = contextLength
        self.tiedEmbeddings = tiedEmbeddings
        self.attentionBias = attentionBias
    }
}
