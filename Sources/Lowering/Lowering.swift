// Lowering: a lowered IR module (after the lowering pipeline) plus its weights -> an execution plan.
//
// One step per op, one arena buffer per op result (its `arena_offset` from plan-memory), one weight tensor per
// parameter the ops read, in first-use order, materialised through the weight store (views, packing and folded
// norms applied). The plan's tokenizer is the module's (pruned) vocabulary, with its id map and the source
// checkpoint's vocabulary size (`source_size`); its provenance is the module's metadata.
import Foundation
import PareIR
import PareInterpreter
import ParePlan

/// What `lowerToPlan` needs besides the module.
public struct LoweringOptions: Sendable {
    /// Rows per forward chunk (the arena holds this many rows). Prompts longer than this run in chunks.
    public var maxRows: Int
    /// The pruning pipeline that produced the module (`none` for a dense plan).
    public var pipeline: String
    /// The lowering pipeline that ran.
    public var lowering: String
    /// Written into the plan's provenance.
    public var pareVersion: String
    /// How matrices are stored (`source` needs a `RawTensorSource`).
    public var weights: WeightFormat

    /// Options for `lowerToPlan`; 128 rows per chunk and f32 weights by default.
    public init(maxRows: Int = 128, pipeline: String, lowering: String, pareVersion: String, weights: WeightFormat = .f32) {
        self.weights = weights
        self.maxRows = maxRows
        self.pipeline = pipeline
        self.lowering = lowering
        self.pareVersion = pareVersion
    }
}

/// A plan whose weight table lists names, dtypes and shapes; `PlanDirectory.write` assigns offsets, lengths and
/// checksums while it pulls each tensor's contents from `data`.
public struct LoweredPlan {
    /// The plan, with tensor offsets, lengths and checksums still zero.
    public var plan: ExecutionPlan
    /// Tensor i's contents: floats (f32 tensors, `plan.tensors[i].count` of them) or bytes in its dtype.
    public var data: (Int) throws -> PlanDirectory.TensorData
    /// The module's parameters behind each tensor, for reports.
    public var parameters: [String]
    /// Matrices written as float32 under `--weights source`, with the reason (a view that cuts inside rows, a
    /// source without blocks Pare's kernels read); empty otherwise.
    public var f32Fallbacks: [(parameter: String, reason: String)] = []
}

/// Lowers `m` (which must have been through the lowering pipeline) to an execution plan reading weights from
/// `store`.
public func lowerToPlan(_ m: Module, store: WeightStore, options: LoweringOptions, raw: RawTensorSource? = nil) throws -> LoweredPlan {
    guard options.maxRows >= 1 && options.maxRows <= 65536 else {
        throw LoweringError.badOption("max rows must be in 1...65536, got \(options.maxRows)")
    }
    let diagnostics = verify(m).filter { $0.severity == .error }
    guard diagnostics.isEmpty else { throw LoweringError.invalidModule(diagnostics.map(\.description).joined(separator: "\n")) }
    guard let bpe = m.vocabulary.bpe else { throw LoweringError.noTokenizer(model: m.name) }

    // `source` on a checkpoint without blocks (safetensors) is its own storage, float: every tensor f32, except
    // those a `quantize(...)` view encodes (under any --weights: the view is part of the module's meaning).
    let byName = Dictionary(m.parameters.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    let sourceRows = SourceRows(raw: options.weights.usesSourceBlocks ? raw : nil, parameters: byName, materialize: { p in
        try store.tensor(for: p, resolve: { byName[$0] }).data
    })
    func quantized(_ p: Parameter) -> Bool {
        (p.views + p.references.compactMap { byName[$0] }.flatMap(\.views)).contains { if case .quantize = $0 { true } else { false } }
    }

    // Tensors: every parameter an op reads, in first-use order; a source-blocks matrix as one tensor per part.
    enum Contents { case parameter(Parameter), blocks(RawMatrix.Part) }
    var tensorIndex: [String: Int] = [:]
    var tensors: [TensorEntry] = []
    var contents: [Contents] = []
    var tensorParameters: [String] = []
    var fallbacks: [(parameter: String, reason: String)] = []
    func floatTensor(_ name: String) throws -> Int {
        if let i = tensorIndex[name] { return i }
        guard let p = m.parameter(name) else { throw LoweringError.invalidModule("@\(name) is not declared") }
        tensorIndex[name] = tensors.count
        tensors.append(TensorEntry(name: name, dtype: .f32, shape: p.shape, offset: 0, length: 0, checksum: 0))
        contents.append(.parameter(p))
        tensorParameters.append(name)
        return tensors.count - 1
    }
    /// The tensors of `name` in its source blocks (and its gain's name), or nil: then it is f32.
    func blockTensors(_ name: String) throws -> (parts: [Int], gain: String?)? {
        guard let p = m.parameter(name), sourceRows.raw != nil || quantized(p) else { return nil }
        guard let rm = sourceRows.matrix(p) else {
            let why = quantized(p) ? "a row view after quantize(...), or a stacked part that is float32"
                : p.views.contains(where: { if case .cols = $0 { return true } else { return false } })
                ? "a column selection cuts inside its blocks" : "its source (\(p.source.encoding)) has no blocks Pare's kernels read whole"
            fallbacks.append((name, why))
            return nil
        }
        var parts: [Int] = []
        for (j, part) in rm.parts.enumerated() {
            // Keyed by content: a tied LM head reads the embedding's very rows (its gain kept apart), one tensor.
            let content = "#" + part.contentKey
            if let i = tensorIndex[content] { parts.append(i); continue }
            let key = rm.parts.count == 1 ? name : "\(name).part\(j)"
            tensorIndex[content] = tensors.count
            tensors.append(TensorEntry(name: key, dtype: part.dtype, shape: [part.rowCount, p.shape[1]], offset: 0, length: 0, checksum: 0))
            contents.append(.blocks(part))
            tensorParameters.append(name)
            parts.append(tensors.count - 1)
        }
        return (parts, rm.gain)
    }

    // Buffers: one per op result.
    var bufferIndex: [Value: Int] = [:]
    var buffers: [BufferEntry] = []
    for (i, op) in m.function.ops.enumerated() {
        guard let offset = op.int("arena_offset") else { throw LoweringError.noMemoryPlan(op: "op %\(i) (\(op.kind.rawValue))") }
        bufferIndex[op.result] = buffers.count
        buffers.append(BufferEntry(name: "%\(i)", width: op.type.shape.last?.size ?? 1, offset: offset))
    }
    let arenaRow = m[meta: "memory.arena_row_floats"]?.intValue ?? 0
    let noReuse = m[meta: "memory.no_reuse_row_floats"]?.intValue ?? 0
    if let b = buffers.first(where: { $0.offset + $0.width > arenaRow }) {
        throw LoweringError.bufferOutsideArena(value: b.name, offset: b.offset, width: b.width, arena: arenaRow)
    }

    // Steps and KV layers.
    var steps: [Step] = []
    var kv: [KVLayer] = []
    for (i, op) in m.function.ops.enumerated() {
        guard let kernel = Kernel(rawValue: op.kind.rawValue) else {
            throw LoweringError.invalidModule("op %\(i) (\(op.kind.rawValue)) has no runtime kernel")
        }
        var weights: [Int] = []
        var matrixParts = 0, normGain = false
        let params = op.paramOperands
        let isMatrix = kernel.spec.isMatrix
        if isMatrix || kernel.spec.weights == .table, let first = params.first, let b = try blockTensors(first),
           isMatrix || b.gain == nil && b.parts.count == 1 {
            weights = b.parts
            matrixParts = b.parts.count > 1 ? b.parts.count : 0
            for name in params.dropFirst() { weights.append(try floatTensor(name)) }
            if let g = b.gain {
                guard op.attributes["eps"] != nil else { throw LoweringError.invalidModule("op %\(i): a norm gain without eps") }
                weights.append(try floatTensor(g))
                normGain = true
            }
        } else {
            weights = try params.map(floatTensor)
        }
        var s = Step(kernel: kernel, block: op.block,
                     inputs: op.valueOperands.compactMap { bufferIndex[$0] },
                     weights: weights,
                     output: bufferIndex[op.result]!)
        s.matrixParts = matrixParts
        s.normGain = normGain
        s.eps = op.double("eps").map(Float.init)
        s.heads = op.int("heads") ?? 0
        s.kvHeads = op.int("kv_heads") ?? 0
        s.headDim = op.int("head_dim") ?? 0
        s.theta = op.double("theta") ?? 0
        s.kvSlot = op.int("kv_slot") ?? 0
        if kernel.spec.attributes.contains(.ffn) { s.ffn = op.type.shape.last?.size ?? 0 }
        if kernel.spec.attends {
            kv.append(KVLayer(slot: s.kvSlot, block: op.block ?? -1, kvHeads: s.kvHeads, headDim: s.headDim))
        }
        steps.append(s)
    }
    kv.sort { $0.slot < $1.slot }
    guard let output = bufferIndex[m.function.result] else { throw LoweringError.invalidModule("the returned value is an argument") }

    let hidden = m.blocks.first?.hidden ?? (tensors.first?.shape.last ?? 0)
    guard let context = m[meta: "context_length"]?.intValue, context > 0 else {
        throw LoweringError.noContextLength(model: m.name)
    }
    let model = ModelShape(hidden: hidden, vocabSize: m.vocabulary.size, maxContext: context, maxRows: options.maxRows)
    let tokenizer = PlanTokenizer(
        tokens: bpe.tokens, kinds: bpe.kinds.map(\.rawValue), merges: bpe.merges.map { MergePair(left: $0.0, right: $0.1) },
        preTokenizer: bpe.preTokenizer, specials: m.vocabulary.specials.map { PlanSpecialToken(role: $0.role, id: $0.id, text: $0.text) },
        idMap: m.vocabulary.idMap.map { Array($0) } ?? [], originalSize: m.vocabulary.originalSize)

    let plan = ExecutionPlan(provenance: provenance(m, options), tokenizer: tokenizer, model: model, tensors: tensors,
                             buffers: buffers, arena: ArenaLayout(rowFloats: arenaRow, noReuseRowFloats: noReuse),
                             kvLayers: kv, steps: steps, output: output, weights: WeightBlob(file: "weights.bin", length: 0, sha256: ""))
    let data: (Int) throws -> PlanDirectory.TensorData = { i in
        switch contents[i] {
        case .parameter(let p):
            let t = try store.tensor(for: p, resolve: { byName[$0] })
            guard t.shape == p.shape else { throw LoweringError.weightShape(name: p.name, expected: p.shape, found: t.shape) }
            return .floats(t.data)
        case .blocks(let part):
            return .bytes(try sourceRows.bytes(part))
        }
    }
    return LoweredPlan(plan: plan, data: data, parameters: tensorParameters, f32Fallbacks: fallbacks)
}

/// The plan's provenance from the module's metadata: source, pipeline, seeds, the KL of each pruning decision.
func provenance(_ m: Module, _ o: LoweringOptions) -> Provenance {
    func string(_ k: String) -> String { m[meta: k]?.stringValue ?? "" }
    // Strings as they are (a chat template stays readable by the runtime's users); other values in IR syntax.
    let entries = m.metadata.map { MetadataEntry(key: $0.key, value: $0.value.stringValue ?? $0.value.description) }
    var kl: [KLReport] = []
    var n = 1
    while let pass = m[meta: "decision.\(n).pass"]?.stringValue {
        let p = "decision.\(n)"
        if let mean = m[meta: p + ".kl.mean"]?.doubleValue {
            let options = m[meta: p + ".options"]?.stringValue ?? ""
            func d(_ k: String) -> Double { m[meta: p + ".kl." + k]?.doubleValue ?? 0 }
            kl.append(KLReport(pass: options.isEmpty ? pass : "\(pass){\(options)}", mean: mean, median: d("median"), p99: d("p99"),
                               max: d("max"), top1Agreement: d("top1"), positions: m[meta: p + ".kl.positions"]?.intValue ?? 0))
        }
        n += 1
    }
    return Provenance(modelName: m.name, architecture: string(MetaKey.architecture), sourceFormat: string(MetaKey.sourceFormat),
                      sourcePath: string(MetaKey.sourcePath), sourceSHA256: string(MetaKey.sourceSHA256),
                      pipeline: o.pipeline, lowering: o.lowering,
                      seeds: entries.filter { $0.key.hasSuffix(".seed") || $0.key.hasSuffix("seed") },
                      kl: kl, metadata: entries, pareVersion: o.pareVersion)
}
