// The execution plan in memory: what `pare compile` writes (as plan.pb + weights.bin) and the runtime executes.
//
// This is the validated, Swift-native form. `PlanCodec.swift` maps it to and from the protobuf messages of
// `plan.proto` (package pare.plan.v1); the runtime only ever sees an `ExecutionPlan` that passed `validate()`.

/// The plan format version this build writes and reads. A plan with another version is rejected.
public let planFormatVersion = 2

/// Format versions this build reads: version 1 plans are version 2 plans with f32 weights and one-part matrices.
public let readableFormatVersions = 1...planFormatVersion

/// A static execution plan: provenance, tokenizer, weights table, memory plan, KV-cache layout and ordered steps.
public struct ExecutionPlan: Sendable, Equatable {
    /// Always `planFormatVersion` for a plan this build writes.
    public var formatVersion: Int
    public var provenance: Provenance
    public var tokenizer: PlanTokenizer
    public var model: ModelShape
    /// Weight tensors, in blob order; steps name them by index.
    public var tensors: [TensorEntry]
    /// Activation buffers in the arena; steps name them by index.
    public var buffers: [BufferEntry]
    public var arena: ArenaLayout
    /// One KV cache per attention step, by slot (0..<n): per-block dims, so pruned blocks may differ.
    public var kvLayers: [KVLayer]
    /// The program: run in order for every forward chunk.
    public var steps: [Step]
    /// The buffer that holds the logits `[rows, model.vocabSize]` after the last step.
    public var output: Int
    /// The weight blob this plan reads.
    public var weights: WeightBlob

    public init(formatVersion: Int = planFormatVersion, provenance: Provenance, tokenizer: PlanTokenizer, model: ModelShape,
                tensors: [TensorEntry], buffers: [BufferEntry], arena: ArenaLayout, kvLayers: [KVLayer], steps: [Step],
                output: Int, weights: WeightBlob) {
        self.formatVersion = formatVersion
        self.provenance = provenance
        self.tokenizer = tokenizer
        self.model = model
        self.tensors = tensors
        self.buffers = buffers
        self.arena = arena
        self.kvLayers = kvLayers
        self.steps = steps
        self.output = output
        self.weights = weights
    }
}

/// Where the plan came from, so a result can be reproduced and reviewed.
public struct Provenance: Sendable, Equatable {
    /// The module's name (e.g. `qwen2.5-coder-0.5b-instruct`).
    public var modelName: String
    /// `llama`, `qwen2`.
    public var architecture: String
    /// `gguf` or `hf`.
    public var sourceFormat: String
    public var sourcePath: String
    /// SHA-256 (hex) of the source checkpoint.
    public var sourceSHA256: String
    /// The pruning pipeline that ran (`none` for a dense plan).
    public var pipeline: String
    /// The lowering pipeline that ran.
    public var lowering: String
    /// Seeds any pass used, by metadata key (e.g. `decision.2.seed` = 0).
    public var seeds: [MetadataEntry]
    /// The KL measured for each pruning pass that ran.
    public var kl: [KLReport]
    /// Every module metadata entry (including all decision records), value printed as IR attribute text.
    public var metadata: [MetadataEntry]
    /// The Pare version that wrote the plan.
    public var pareVersion: String

    public init(modelName: String, architecture: String, sourceFormat: String, sourcePath: String, sourceSHA256: String,
                pipeline: String, lowering: String, seeds: [MetadataEntry], kl: [KLReport], metadata: [MetadataEntry],
                pareVersion: String) {
        self.modelName = modelName
        self.architecture = architecture
        self.sourceFormat = sourceFormat
        self.sourcePath = sourcePath
        self.sourceSHA256 = sourceSHA256
        self.pipeline = pipeline
        self.lowering = lowering
        self.seeds = seeds
        self.kl = kl
        self.metadata = metadata
        self.pareVersion = pareVersion
    }
}

/// One metadata key and its value as IR attribute text (`"[0..255]"`, `0.031`, `3`).
public struct MetadataEntry: Sendable, Equatable {
    public var key: String
    public var value: String
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// KL(before || after) measured for one pruning pass on its calibration data.
public struct KLReport: Sendable, Equatable {
    /// The pass as it appeared in the pipeline, e.g. `layer-prune{count=3}`.
    public var pass: String
    public var mean: Double
    public var median: Double
    public var p99: Double
    public var max: Double
    /// Fraction of positions where the top-1 token is unchanged.
    public var top1Agreement: Double
    public var positions: Int

    public init(pass: String, mean: Double, median: Double, p99: Double, max: Double, top1Agreement: Double, positions: Int) {
        self.pass = pass
        self.mean = mean
        self.median = median
        self.p99 = p99
        self.max = max
        self.top1Agreement = top1Agreement
        self.positions = positions
    }
}

/// The (possibly pruned) byte-level BPE tokenizer, in the plan's own token ids.
public struct PlanTokenizer: Sendable, Equatable {
    /// Token strings in byte-level form (GPT-2 byte-to-unicode), by id.
    public var tokens: [String]
    /// Per token: `normal`, `control`, `user_defined`, `byte`, `unused` (IR `TokenKind` raw values).
    public var kinds: [String]
    /// Merge rules in rank order.
    public var merges: [MergePair]
    /// The pre-tokenizer's name (`qwen2`, `smollm`, ...).
    public var preTokenizer: String
    /// Special tokens by role (`bos`, `eos`, `pad`, ...), with ids in this tokenizer.
    public var specials: [PlanSpecialToken]
    /// For a pruned vocabulary: the original id of each token (monotone new -> old). Empty when not pruned.
    public var idMap: [Int]
    /// The vocabulary size of the source checkpoint.
    public var originalSize: Int

    public init(tokens: [String], kinds: [String], merges: [MergePair], preTokenizer: String, specials: [PlanSpecialToken],
                idMap: [Int], originalSize: Int) {
        self.tokens = tokens
        self.kinds = kinds
        self.merges = merges
        self.preTokenizer = preTokenizer
        self.specials = specials
        self.idMap = idMap
        self.originalSize = originalSize
    }
}

/// One BPE merge rule: `left` + `right` -> `left right` joined.
public struct MergePair: Sendable, Equatable {
    public var left: String
    public var right: String
    public init(left: String, right: String) {
        self.left = left
        self.right = right
    }
}

/// A special token (`bos`, `eos`, `eot`, `pad`, ...).
public struct PlanSpecialToken: Sendable, Equatable {
    public var role: String
    public var id: Int
    public var text: String
    public init(role: String, id: Int, text: String) {
        self.role = role
        self.id = id
        self.text = text
    }
}

/// Model-wide sizes the runtime needs before it runs a step.
public struct ModelShape: Sendable, Equatable {
    /// The residual stream width.
    public var hidden: Int
    /// Rows of the logits (the plan's vocabulary size).
    public var vocabSize: Int
    /// The longest context the KV caches are laid out for (the checkpoint's context length).
    public var maxContext: Int
    /// Rows per forward chunk: every arena buffer holds this many rows; longer prompts run in chunks.
    public var maxRows: Int

    public init(hidden: Int, vocabSize: Int, maxContext: Int, maxRows: Int) {
        self.hidden = hidden
        self.vocabSize = vocabSize
        self.maxContext = maxContext
        self.maxRows = maxRows
    }
}

/// Element types of weight tensors: float32, half, and ggml's block formats bit for bit (plan.proto's `DataType`).
public enum PlanDType: String, Sendable, Equatable, CaseIterable {
    case f32, f16, q4_0, q4_1, q5_0, q5_1, q8_0, q4_k, q6_k

    /// Elements per block (1 for f32 and f16).
    public var blockElements: Int {
        switch self {
        case .f32, .f16: return 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0: return 32
        case .q4_k, .q6_k: return 256
        }
    }

    /// Bytes per block.
    public var blockBytes: Int {
        switch self {
        case .f32: return 4
        case .f16: return 2
        case .q4_0: return 18
        case .q4_1: return 20
        case .q5_0: return 22
        case .q5_1: return 24
        case .q8_0: return 34
        case .q4_k: return 144
        case .q6_k: return 210
        }
    }

    /// ggml's (and GGUF's) number for the type, which the C kernels use too.
    public var ggmlType: Int32 {
        switch self {
        case .f32: return 0
        case .f16: return 1
        case .q4_0: return 2
        case .q4_1: return 3
        case .q5_0: return 6
        case .q5_1: return 7
        case .q8_0: return 8
        case .q4_k: return 12
        case .q6_k: return 14
        }
    }

    /// The type with ggml's number `code`, if plans can hold it.
    public init?(ggmlType code: Int) {
        guard let t = PlanDType.allCases.first(where: { Int($0.ggmlType) == code }) else { return nil }
        self = t
    }

    /// True for the 8-bit-or-less block formats (not f32 or f16).
    public var isBlockQuantized: Bool { blockElements > 1 }

    /// Bytes of a tensor of `shape` (the last dimension in whole blocks), or nil when the last dimension is not a
    /// multiple of the block or the size overflows.
    public func byteCount(shape: [Int]) -> Int? {
        guard let last = shape.last, last > 0, last % blockElements == 0 else { return nil }
        var rows = 1
        for d in shape.dropLast() {
            let (p, o) = rows.multipliedReportingOverflow(by: d)
            guard !o, d > 0 else { return nil }
            rows = p
        }
        let (row, o1) = (last / blockElements).multipliedReportingOverflow(by: blockBytes)
        let (total, o2) = rows.multipliedReportingOverflow(by: row)
        return o1 || o2 ? nil : total
    }
}

/// One weight tensor in the blob: row-major, `offset` a multiple of 64.
public struct TensorEntry: Sendable, Equatable {
    /// The packed parameter's IR name (e.g. `blk.0.attn_qkv`).
    public var name: String
    public var dtype: PlanDType
    /// Outermost first: a matrix is `[out, in]`, a vector `[n]`.
    public var shape: [Int]
    /// Byte offset in the blob; a multiple of 64.
    public var offset: Int
    /// Byte length: `dtype.byteCount(shape:)`.
    public var length: Int
    /// CRC-32C (Castagnoli) of the tensor's bytes.
    public var checksum: UInt32

    public init(name: String, dtype: PlanDType, shape: [Int], offset: Int, length: Int, checksum: UInt32) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.offset = offset
        self.length = length
        self.checksum = checksum
    }

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
}

/// An activation buffer: `[maxRows, width]` f32, row-major, at float offset `offset * maxRows` in the arena.
/// Offsets and widths are in floats per row, so a layout valid for one row is valid for `maxRows`.
public struct BufferEntry: Sendable, Equatable {
    /// The IR value it holds (e.g. `%12`), for dumps.
    public var name: String
    /// Floats per row.
    public var width: Int
    /// Offset in floats per row from the arena's start.
    public var offset: Int

    public init(name: String, width: Int, offset: Int) {
        self.name = name
        self.width = width
        self.offset = offset
    }
}

/// The arena's size, with buffer reuse and without, in floats per row.
public struct ArenaLayout: Sendable, Equatable {
    /// Floats per row the arena holds (max over steps of live buffers' extent).
    public var rowFloats: Int
    /// Floats per row if every buffer had its own space (the sum of all widths).
    public var noReuseRowFloats: Int

    public init(rowFloats: Int, noReuseRowFloats: Int) {
        self.rowFloats = rowFloats
        self.noReuseRowFloats = noReuseRowFloats
    }

    /// Bytes the arena takes for `rows` rows.
    public func bytes(rows: Int) -> Int { rowFloats * rows * 4 }
}

/// The KV cache of one attention step: keys and values, each `[maxContext, kvHeads * headDim]` f32.
public struct KVLayer: Sendable, Equatable {
    /// The cache slot (attention steps' `kvSlot`), 0..<n.
    public var slot: Int
    /// The source block index (layer-prune keeps original indices: they need not be 0..<n).
    public var block: Int
    public var kvHeads: Int
    public var headDim: Int

    public init(slot: Int, block: Int, kvHeads: Int, headDim: Int) {
        self.slot = slot
        self.block = block
        self.kvHeads = kvHeads
        self.headDim = headDim
    }

    /// Floats per position for keys (and again for values).
    public var width: Int { kvHeads * headDim }
}

/// One step of the program.
public struct Step: Sendable, Equatable {
    public var kernel: Kernel
    /// The IR block the step belongs to; nil outside blocks.
    public var block: Int?
    /// Input buffers, by index into `ExecutionPlan.buffers`.
    public var inputs: [Int]
    /// Weight tensors, by index into `ExecutionPlan.tensors`.
    public var weights: [Int]
    /// The output buffer.
    public var output: Int
    /// RMS-norm epsilon: `rms_norm`'s own, or the folded norm's for `linear`, `qkv_rope`, `swiglu`.
    public var eps: Float?
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var theta: Double
    public var kvSlot: Int
    public var ffn: Int
    /// Matrix kernels: how many leading weights are row-stacked parts of the matrix (0 is read as 1).
    public var matrixParts: Int
    /// Matrix kernels with `eps`: the last weight is the norm's weight, applied to the activation.
    public var normGain: Bool

    public init(kernel: Kernel, block: Int? = nil, inputs: [Int], weights: [Int] = [], output: Int, eps: Float? = nil,
                heads: Int = 0, kvHeads: Int = 0, headDim: Int = 0, theta: Double = 0, kvSlot: Int = 0, ffn: Int = 0,
                matrixParts: Int = 0, normGain: Bool = false) {
        self.matrixParts = matrixParts
        self.normGain = normGain
        self.kernel = kernel
        self.block = block
        self.inputs = inputs
        self.weights = weights
        self.output = output
        self.eps = eps
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.theta = theta
        self.kvSlot = kvSlot
        self.ffn = ffn
    }
}

/// The weight blob a plan reads: a file beside `plan.pb`.
public struct WeightBlob: Sendable, Equatable {
    /// File name relative to the plan directory (`weights.bin`).
    public var file: String
    /// Total bytes.
    public var length: Int
    /// SHA-256 (hex) of the whole blob, for `pare inspect --verify` and provenance.
    public var sha256: String

    public init(file: String, length: Int, sha256: String) {
        self.file = file
        self.length = length
        self.sha256 = sha256
    }
}

extension Step {
    /// The matrix's parts (1 when `matrixParts` is 0).
    public var partCount: Int { max(matrixParts, 1) }
    /// The indices into `weights` of the matrix parts, the bias and the norm gain (matrix kernels). The bias is
    /// whatever single weight lies between the parts and the gain.
    public var matrixRoles: (parts: Range<Int>, bias: Int?, gain: Int?) {
        let parts = 0..<min(partCount, weights.count)
        let gain = normGain && weights.count > parts.upperBound ? weights.count - 1 : nil
        let rest = (gain ?? weights.count) - parts.upperBound
        return (parts, rest >= 1 ? parts.upperBound : nil, gain)
    }
}
