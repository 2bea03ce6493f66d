// ExecutionPlan <-> plan.pb bytes: the protobuf messages of plan.proto (package pare.plan.v1) plus a CRC-32C trailer.
//
// Layout of plan.pb: the serialized `Plan` fields 1...11 in field order, then field 15 (`crc32c`, fixed32) holding
// the CRC-32C of every byte before its tag. Encoding is deterministic (no maps; fields in number order), so the same
// plan always gives the same bytes. Decoding checks structure, format version and checksum; it does not validate
// the plan's semantics (`ExecutionPlan.validate()` does that) and never crashes on garbage.
import CCRC32C
import Foundation
import SwiftProtobuf

private typealias PBPlan = Pare_Plan_V1_Plan

/// The tag byte of `Plan.crc32c`: field 15, wire type 5 (fixed32).
private let checksumTag: UInt8 = 15 << 3 | 5

/// plan.pb's bytes for `plan`: deterministic, ending with the CRC-32C trailer. Throws `PlanError.valueOutOfRange`
/// for a value the format cannot hold and `unknownTokenKind` for a token kind that is not an IR kind.
public func encodePlan(_ plan: ExecutionPlan) throws -> Data {
    var m = PBPlan()
    guard let version = UInt32(exactly: plan.formatVersion) else {
        throw PlanError.valueOutOfRange(field: "format_version", value: plan.formatVersion)
    }
    m.formatVersion = version
    m.provenance = encodeProvenance(plan.provenance)
    m.tokenizer = try encodeTokenizer(plan.tokenizer)
    m.model = .with {
        $0.hidden = Int64(plan.model.hidden)
        $0.vocabSize = Int64(plan.model.vocabSize)
        $0.maxContext = Int64(plan.model.maxContext)
        $0.maxRows = Int64(plan.model.maxRows)
    }
    m.tensors = plan.tensors.map { t in
        .with {
            $0.name = t.name
            $0.dtype = dataTypes.first { $0.0 == t.dtype }!.1
            $0.shape = t.shape.map(Int64.init)
            $0.offset = Int64(t.offset)
            $0.length = Int64(t.length)
            $0.checksum = t.checksum
        }
    }
    m.buffers = plan.buffers.map { b in
        .with {
            $0.name = b.name
            $0.width = Int64(b.width)
            $0.offset = Int64(b.offset)
        }
    }
    m.arena = .with {
        $0.rowFloats = Int64(plan.arena.rowFloats)
        $0.noReuseRowFloats = Int64(plan.arena.noReuseRowFloats)
    }
    m.kvLayers = plan.kvLayers.map { k in
        .with {
            $0.slot = Int64(k.slot)
            $0.block = Int64(k.block)
            $0.kvHeads = Int64(k.kvHeads)
            $0.headDim = Int64(k.headDim)
        }
    }
    m.steps = try plan.steps.map(encodeStep)
    m.output = Int64(plan.output)
    m.weights = .with {
        $0.file = plan.weights.file
        $0.length = Int64(plan.weights.length)
        $0.sha256 = plan.weights.sha256
    }
    var data = try m.serializedData()
    let crc = data.withUnsafeBytes { pare_crc32c(0, $0.baseAddress, $0.count) }
    data.append(checksumTag)
    withUnsafeBytes(of: crc.littleEndian) { data.append(contentsOf: $0) }
    return data
}

/// The plan in plan.pb's bytes. `path` names the file in errors. Throws `PlanError.notAPlan`, `truncated`,
/// `corrupt` (checksum), `unsupportedFormatVersion`, `missingField`, `unknownKernel`, `unknownDType` or
/// `unknownTokenKind`. The result is not yet validated.
public func decodePlan(_ data: Data, path: String = "plan.pb") throws -> ExecutionPlan {
    guard !data.isEmpty else { throw PlanError.truncated(path: path, detail: "the file is empty") }
    let m: PBPlan
    do {
        m = try PBPlan(serializedBytes: data)
    } catch BinaryDecodingError.truncated {
        throw PlanError.truncated(path: path, detail: "it ends inside a field")
    } catch {
        throw PlanError.notAPlan(path: path, detail: "protobuf decoding failed: \(error)")
    }
    guard m.formatVersion != 0 else { throw PlanError.notAPlan(path: path, detail: "it has no format_version") }

    // The checksum trailer: present, last, and matching. A mismatch wins over a version error (a flipped version
    // byte is corruption); a missing trailer on another version is that version's business.
    let n = data.count
    var trailer: UInt32 = 0
    if n >= 5 { for i in 0..<4 { trailer |= UInt32(data[data.startIndex + n - 4 + i]) << (8 * i) } }
    let hasTrailer = n >= 5 && data[data.startIndex + n - 5] == checksumTag && m.optionalCrc32C == .crc32C(trailer)
    if hasTrailer {
        let computed = data.withUnsafeBytes { pare_crc32c(0, $0.baseAddress, n - 5) }
        guard computed == trailer else {
            throw PlanError.corrupt(path: path, detail: "CRC-32C of its contents is \(hex8(computed)), the file records \(hex8(trailer))")
        }
    }
    guard readableFormatVersions.contains(Int(m.formatVersion)) else {
        throw PlanError.unsupportedFormatVersion(path: path, found: Int(m.formatVersion))
    }
    guard hasTrailer else { throw PlanError.truncated(path: path, detail: "it ends before its checksum field") }

    for (present, field) in [(m.hasProvenance, "provenance"), (m.hasTokenizer, "tokenizer"), (m.hasModel, "model"),
                             (m.hasArena, "arena"), (m.hasWeights, "weights")] where !present {
        throw PlanError.missingField(path: path, field: field)
    }
    var tensors: [TensorEntry] = []
    tensors.reserveCapacity(m.tensors.count)
    for t in m.tensors {
        guard let dtype = dataTypes.first(where: { $0.1 == t.dtype })?.0, m.formatVersion >= 2 || dtype == .f32 else {
            throw PlanError.unknownDType(path: path, tensor: t.name, value: t.dtype.rawValue)
        }
        tensors.append(TensorEntry(name: t.name, dtype: dtype, shape: t.shape.map { Int($0) }, offset: Int(t.offset),
                                   length: Int(t.length), checksum: t.checksum))
    }
    var steps: [Step] = []
    steps.reserveCapacity(m.steps.count)
    for (i, s) in m.steps.enumerated() { steps.append(try decodeStep(s, index: i, path: path)) }
    let mm = m.model, a = m.arena, w = m.weights
    return ExecutionPlan(
        formatVersion: Int(m.formatVersion),
        provenance: decodeProvenance(m.provenance),
        tokenizer: try decodeTokenizer(m.tokenizer, path: path),
        model: ModelShape(hidden: Int(mm.hidden), vocabSize: Int(mm.vocabSize), maxContext: Int(mm.maxContext),
                          maxRows: Int(mm.maxRows)),
        tensors: tensors,
        buffers: m.buffers.map { BufferEntry(name: $0.name, width: Int($0.width), offset: Int($0.offset)) },
        arena: ArenaLayout(rowFloats: Int(a.rowFloats), noReuseRowFloats: Int(a.noReuseRowFloats)),
        kvLayers: m.kvLayers.map { KVLayer(slot: Int($0.slot), block: Int($0.block), kvHeads: Int($0.kvHeads), headDim: Int($0.headDim)) },
        steps: steps,
        output: Int(m.output),
        weights: WeightBlob(file: w.file, length: Int(w.length), sha256: w.sha256))
}

/// Plan dtypes and their protobuf values.
private let dataTypes: [(PlanDType, Pare_Plan_V1_DataType)] = [
    (.f32, .f32), (.f16, .f16), (.q4_0, .q40), (.q4_1, .q41), (.q5_0, .q50), (.q5_1, .q51), (.q8_0, .q80), (.q4_k, .q4K),
    (.q6_k, .q6K),
]

// MARK: Provenance

private func encodeProvenance(_ p: Provenance) -> Pare_Plan_V1_Provenance {
    .with {
        $0.modelName = p.modelName
        $0.architecture = p.architecture
        $0.sourceFormat = p.sourceFormat
        $0.sourcePath = p.sourcePath
        $0.sourceSha256 = p.sourceSHA256
        $0.pipeline = p.pipeline
        $0.lowering = p.lowering
        $0.seeds = p.seeds.map(encodeEntry)
        $0.kl = p.kl.map { k in
            .with {
                $0.pass = k.pass
                $0.mean = k.mean
                $0.median = k.median
                $0.p99 = k.p99
                $0.max = k.max
                $0.top1Agreement = k.top1Agreement
                $0.positions = Int64(k.positions)
            }
        }
        $0.metadata = p.metadata.map(encodeEntry)
        $0.pareVersion = p.pareVersion
    }
}

private func encodeEntry(_ e: MetadataEntry) -> Pare_Plan_V1_MetadataEntry {
    .with {
        $0.key = e.key
        $0.value = e.value
    }
}

private func decodeProvenance(_ p: Pare_Plan_V1_Provenance) -> Provenance {
    Provenance(
        modelName: p.modelName, architecture: p.architecture, sourceFormat: p.sourceFormat, sourcePath: p.sourcePath,
        sourceSHA256: p.sourceSha256, pipeline: p.pipeline, lowering: p.lowering,
        seeds: p.seeds.map { MetadataEntry(key: $0.key, value: $0.value) },
        kl: p.kl.map {
            KLReport(pass: $0.pass, mean: $0.mean, median: $0.median, p99: $0.p99, max: $0.max,
                     top1Agreement: $0.top1Agreement, positions: Int($0.positions))
        },
        metadata: p.metadata.map { MetadataEntry(key: $0.key, value: $0.value) },
        pareVersion: p.pareVersion)
}

// MARK: Tokenizer

/// The IR's token kinds (PareIR `TokenKind` raw values) and their protobuf values.
private let tokenKinds: [(String, Pare_Plan_V1_TokenKind)] = [
    ("normal", .normal), ("control", .control), ("user_defined", .userDefined), ("byte", .byte),
    ("unused", .unused), ("unknown", .unknown),
]

private func encodeTokenizer(_ t: PlanTokenizer) throws -> Pare_Plan_V1_Tokenizer {
    let byName = Dictionary(uniqueKeysWithValues: tokenKinds)
    var m = Pare_Plan_V1_Tokenizer()
    m.tokens = t.tokens
    m.kinds = try t.kinds.enumerated().map { i, k in
        guard let kind = byName[k] else { throw PlanError.unknownTokenKind(path: "plan", token: i, kind: k) }
        return kind
    }
    m.merges = t.merges.map { p in
        .with {
            $0.left = p.left
            $0.right = p.right
        }
    }
    m.preTokenizer = t.preTokenizer
    m.specials = t.specials.map { s in
        .with {
            $0.role = s.role
            $0.id = Int64(s.id)
            $0.text = s.text
        }
    }
    m.idMap = t.idMap.map(Int64.init)
    m.originalSize = Int64(t.originalSize)
    return m
}

private func decodeTokenizer(_ m: Pare_Plan_V1_Tokenizer, path: String) throws -> PlanTokenizer {
    let byKind = Dictionary(uniqueKeysWithValues: tokenKinds.map { ($0.1, $0.0) })
    let kinds = try m.kinds.enumerated().map { i, k in
        guard let name = byKind[k] else { throw PlanError.unknownTokenKind(path: path, token: i, kind: "\(k.rawValue)") }
        return name
    }
    return PlanTokenizer(
        tokens: m.tokens, kinds: kinds, merges: m.merges.map { MergePair(left: $0.left, right: $0.right) },
        preTokenizer: m.preTokenizer,
        specials: m.specials.map { PlanSpecialToken(role: $0.role, id: Int($0.id), text: $0.text) },
        idMap: m.idMap.map { Int($0) }, originalSize: Int(m.originalSize))
}

// MARK: Steps

private func encodeStep(_ s: Step) throws -> Pare_Plan_V1_Step {
    var m = Pare_Plan_V1_Step()
    m.kernel = s.kernel.spec.protobuf
    if let b = s.block {
        guard let b32 = Int32(exactly: b) else { throw PlanError.valueOutOfRange(field: "step.block", value: b) }
        m.block = b32
    }
    m.inputs = s.inputs.map(Int64.init)
    m.weights = s.weights.map(Int64.init)
    m.output = Int64(s.output)
    if let eps = s.eps { m.eps = eps }
    m.heads = Int64(s.heads)
    m.kvHeads = Int64(s.kvHeads)
    m.headDim = Int64(s.headDim)
    m.theta = s.theta
    m.kvSlot = Int64(s.kvSlot)
    m.ffn = Int64(s.ffn)
    guard let parts = Int32(exactly: s.matrixParts) else { throw PlanError.valueOutOfRange(field: "step.matrix_parts", value: s.matrixParts) }
    m.matrixParts = parts
    m.normGain = s.normGain
    return m
}

private func decodeStep(_ m: Pare_Plan_V1_Step, index: Int, path: String) throws -> Step {
    guard let k = Kernel(protobuf: m.kernel) else {
        throw PlanError.unknownKernel(path: path, step: index, value: m.kernel.rawValue)
    }
    var block: Int?
    if case .block(let b)? = m.optionalBlock { block = Int(b) }
    var eps: Float?
    if case .eps(let e)? = m.optionalEps { eps = e }
    return Step(kernel: k, block: block, inputs: m.inputs.map { Int($0) }, weights: m.weights.map { Int($0) },
                output: Int(m.output), eps: eps, heads: Int(m.heads), kvHeads: Int(m.kvHeads), headDim: Int(m.headDim),
                theta: m.theta, kvSlot: Int(m.kvSlot), ffn: Int(m.ffn), matrixParts: Int(m.matrixParts), normGain: m.normGain)
}
