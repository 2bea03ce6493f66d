// Typed errors for every way a plan can be wrong: on disk (plan.pb, weights.bin) or in memory (validation).
import Foundation

/// An error reading, writing or validating an execution plan. File-level cases name the file; validation cases
/// name the step, buffer or tensor that is wrong (`invalid` adds the file when a plan read from disk fails them).
public enum PlanError: Error, LocalizedError, Equatable {
    // MARK: Files

    /// A file or directory could not be opened or read.
    case cannotRead(path: String, reason: String)
    /// A file or directory could not be written.
    case cannotWrite(path: String, reason: String)
    /// The bytes are not a serialized plan (protobuf decoding failed, or the file is empty).
    case notAPlan(path: String, detail: String)
    /// The file ends early.
    case truncated(path: String, detail: String)
    /// plan.pb's own CRC-32C does not match its contents.
    case corrupt(path: String, detail: String)
    /// The plan was written in a format version this build does not read.
    case unsupportedFormatVersion(path: String, found: Int)
    /// A step's kernel is not one this build knows.
    case unknownKernel(path: String, step: Int, value: Int)
    /// A tensor's element type is not one this build knows.
    case unknownDType(path: String, tensor: String, value: Int)
    /// A token's kind is not one of the IR's token kinds.
    case unknownTokenKind(path: String, token: Int, kind: String)
    /// A required message is absent.
    case missingField(path: String, field: String)
    /// A value does not fit the field that stores it.
    case valueOutOfRange(field: String, value: Int)
    /// weights.bin's size is not the length plan.pb records.
    case weightsLength(path: String, expected: Int, found: Int)
    /// A tensor's bytes in weights.bin do not match its recorded CRC-32C.
    case tensorChecksum(path: String, tensor: String, expected: UInt32, found: UInt32)
    /// weights.bin's SHA-256 is not the one plan.pb records.
    case weightsHash(path: String, expected: String, found: String)
    /// The weight data supplied for a tensor has the wrong number of floats.
    case tensorData(tensor: String, expected: Int, found: Int)
    /// A plan read from `path` failed validation.
    indirect case invalid(path: String, PlanError)

    // MARK: Validation

    /// `formatVersion` is not `planFormatVersion`.
    case formatVersion(found: Int)
    /// A model-wide size is not positive.
    case modelShape(detail: String)
    /// An index names no element: `what` says where it appears (e.g. `step 3 input 1`).
    case indexOutOfRange(what: String, index: Int, count: Int)
    /// A step has the wrong number of inputs or weights for its kernel.
    case arity(step: Int, kernel: String, detail: String)
    /// A step's buffer widths or tensor shapes disagree with each other or with its attributes.
    case shapeMismatch(step: Int, kernel: String, detail: String)
    /// A step's attribute is missing or out of range.
    case badAttribute(step: Int, kernel: String, detail: String)
    /// An attention step's query heads are not a multiple of its KV heads.
    case headsNotMultipleOfKVHeads(step: Int, heads: Int, kvHeads: Int)
    /// The KV layers are not slots 0..<n, each used by exactly one attention step.
    case kvSlots(detail: String)
    /// An attention step's KV layer has other dimensions than the step.
    case kvLayerMismatch(step: Int, slot: Int, detail: String)
    /// The output buffer's width is not the vocabulary size.
    case outputWidth(buffer: Int, width: Int, vocabSize: Int)
    /// A buffer's floats `[offset, offset + width)` are not inside the arena's row.
    case bufferOutsideArena(buffer: Int, offset: Int, width: Int, rowFloats: Int)
    /// The arena's recorded sizes are inconsistent with its buffers.
    case arenaSize(detail: String)
    /// A buffer is read by a step before any step writes it (or the output is never written).
    case readBeforeWrite(step: Int, buffer: Int)
    /// A step reads the buffer it writes.
    case inPlace(step: Int, buffer: Int)
    /// Two buffers that are live at the same step share arena floats.
    case liveBuffersOverlap(step: Int, a: Int, b: Int)
    /// A tensor's shape has no dimensions or a non-positive one.
    case tensorShape(tensor: String, shape: [Int])
    /// A tensor's blob offset is not a multiple of 64.
    case tensorMisaligned(tensor: String, offset: Int)
    /// A tensor's byte length is not its element count times its element size.
    case tensorLength(tensor: String, length: Int, expected: Int)
    /// A tensor's bytes extend past the end of the blob.
    case tensorOutsideBlob(tensor: String, end: Int, blobLength: Int)
    /// Two tensors share blob bytes.
    case tensorsOverlap(a: String, b: String)
    /// The weight blob's file name is not a plain file name.
    case weightsFile(name: String)
    /// The tokenizer's token or kind count is not the vocabulary size.
    case tokenizerSize(detail: String)
    /// A special token's id is not a token of the plan's vocabulary.
    case specialOutOfRange(role: String, id: Int, vocabSize: Int)
    /// The id map is neither empty nor a strictly increasing map into the original vocabulary.
    case idMap(detail: String)

    public var errorDescription: String? {
        let recompile = "re-run `pare compile` to write the plan again"
        let bug = "the plan writer has a bug; " + recompile + " and report it if it happens again"
        switch self {
        case let .cannotRead(p, r): return "\(p): cannot read: \(r)"
        case let .cannotWrite(p, r): return "\(p): cannot write: \(r)"
        case let .notAPlan(p, d): return "\(p): not a Pare plan (\(d)); give a directory written by `pare compile`"
        case let .truncated(p, d): return "\(p): file is truncated (\(d)); \(recompile)"
        case let .corrupt(p, d): return "\(p): file is corrupt (\(d)); \(recompile)"
        case let .unsupportedFormatVersion(p, v):
            return "\(p): plan format version \(v) is not supported (this Pare reads version \(planFormatVersion)); re-run `pare compile` with this Pare"
        case let .unknownKernel(p, s, v):
            return "\(p): step \(s) uses unknown kernel \(v) (written by a newer Pare?); re-run `pare compile` with this Pare"
        case let .unknownDType(p, t, v):
            return "\(p): tensor '\(t)' has unknown element type \(v) (written by a newer Pare?); re-run `pare compile` with this Pare"
        case let .unknownTokenKind(p, t, k):
            return "\(p): token \(t) has unknown kind '\(k)'; kinds are normal, control, user_defined, byte, unused, unknown"
        case let .missingField(p, f): return "\(p): required field '\(f)' is missing; \(recompile)"
        case let .valueOutOfRange(f, v): return "plan field '\(f)' cannot hold \(v)"
        case let .weightsLength(p, e, f):
            return "\(p): weight blob is \(f) bytes but the plan says \(e); the file is truncated or from another plan; \(recompile)"
        case let .tensorChecksum(p, t, e, f):
            return "\(p): tensor '\(t)' fails its checksum (CRC-32C \(hex8(f)), expected \(hex8(e))): the weight blob is corrupt; \(recompile)"
        case let .weightsHash(p, e, f):
            return "\(p): SHA-256 is \(f) but the plan records \(e): the weight blob is corrupt or from another plan; \(recompile)"
        case let .tensorData(t, e, f): return "weights for tensor '\(t)': got \(f) floats, the tensor's shape holds \(e)"
        case let .invalid(p, inner): return "\(p): \(inner.errorDescription ?? "invalid plan")"
        case let .formatVersion(v): return "invalid plan: format version \(v), expected \(planFormatVersion); \(bug)"
        case let .modelShape(d): return "invalid plan: model shape: \(d); \(bug)"
        case let .indexOutOfRange(w, i, n): return "invalid plan: \(w) is \(i), not in 0..<\(n); \(bug)"
        case let .arity(s, k, d): return "invalid plan: step \(s) (\(k)): \(d); \(bug)"
        case let .shapeMismatch(s, k, d): return "invalid plan: step \(s) (\(k)): \(d); \(bug)"
        case let .badAttribute(s, k, d): return "invalid plan: step \(s) (\(k)): \(d); \(bug)"
        case let .headsNotMultipleOfKVHeads(s, h, k):
            return "invalid plan: step \(s): \(h) query heads are not a multiple of \(k) KV heads; \(bug)"
        case let .kvSlots(d): return "invalid plan: KV layers: \(d); \(bug)"
        case let .kvLayerMismatch(s, slot, d): return "invalid plan: step \(s) and KV slot \(slot) disagree: \(d); \(bug)"
        case let .outputWidth(b, w, v): return "invalid plan: output buffer \(b) is \(w) floats wide, the vocabulary has \(v) tokens; \(bug)"
        case let .bufferOutsideArena(b, o, w, r):
            return "invalid plan: buffer \(b) (offset \(o), width \(w) floats) is not inside the \(r)-float arena row; \(bug)"
        case let .arenaSize(d): return "invalid plan: arena: \(d); \(bug)"
        case let .readBeforeWrite(s, b): return "invalid plan: step \(s) reads buffer \(b) before any step writes it; \(bug)"
        case let .inPlace(s, b): return "invalid plan: step \(s) reads and writes buffer \(b); \(bug)"
        case let .liveBuffersOverlap(s, a, b):
            return "invalid plan: buffers \(a) and \(b) are both live at step \(s) but share arena space; \(bug)"
        case let .tensorShape(t, s): return "invalid plan: tensor '\(t)' has shape \(s); every dimension must be positive; \(bug)"
        case let .tensorMisaligned(t, o): return "invalid plan: tensor '\(t)' starts at byte \(o), not a multiple of 64; \(bug)"
        case let .tensorLength(t, l, e): return "invalid plan: tensor '\(t)' is \(l) bytes, its shape needs \(e); \(bug)"
        case let .tensorOutsideBlob(t, e, l): return "invalid plan: tensor '\(t)' ends at byte \(e), past the \(l)-byte weight blob; \(bug)"
        case let .tensorsOverlap(a, b): return "invalid plan: tensors '\(a)' and '\(b)' overlap in the weight blob; \(bug)"
        case let .weightsFile(n): return "invalid plan: weight blob name '\(n)' is not a plain file name; \(bug)"
        case let .tokenizerSize(d): return "invalid plan: tokenizer: \(d); \(bug)"
        case let .specialOutOfRange(r, i, v): return "invalid plan: special token '\(r)' has id \(i), not in 0..<\(v); \(bug)"
        case let .idMap(d): return "invalid plan: token id map: \(d); \(bug)"
        }
    }
}

/// `v` as 8 lower-case hex digits.
func hex8(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: 8 - s.count) + s
}
