// Typed errors of the plan runtime: a plan that does not fit its weights or itself, bad inputs, bad settings.
import Foundation

/// What went wrong loading, checking or running an execution plan. Every message names the culprit.
public enum RuntimeError: Error, LocalizedError, Equatable {
    /// A model-wide size in the plan is out of range.
    case badModelShape(field: String, value: Int, problem: String)
    /// The weight blob's base address is not aligned for float32.
    case weightsMisaligned(address: UInt)
    /// A tensor entry is inconsistent (dtype, shape, length or alignment).
    case badTensor(tensor: String, problem: String)
    /// A tensor entry reaches past the end of the weight blob.
    case tensorOutOfBlob(tensor: String, offset: Int, length: Int, blobBytes: Int)
    /// An activation buffer does not fit in the arena's row.
    case bufferOutOfArena(buffer: String, offset: Int, width: Int, rowFloats: Int)
    /// A KV-cache layer entry is inconsistent.
    case badKVLayer(slot: Int, problem: String)
    /// The buffer that holds the logits is missing, has the wrong width or is never written.
    case badOutput(problem: String)
    /// A step names the wrong number of operands, or an operand that does not exist.
    case badOperands(step: String, problem: String)
    /// A step's weight tensor has the wrong shape for the buffers it connects.
    case weightShape(step: String, tensor: String, shape: [Int], expected: [Int])
    /// A step's buffer has the wrong width for the step's attributes and other operands.
    case bufferWidth(step: String, buffer: String, width: Int, expected: Int)
    /// A step's attribute is missing or out of range.
    case badAttribute(step: String, attribute: String, problem: String)
    /// A step's output overlaps one of its inputs where the kernel cannot work in place.
    case bufferOverlap(step: String, input: String, output: String)
    /// Memory for the arena, a KV cache or scratch could not be allocated.
    case allocationFailed(what: String, bytes: Int)
    /// `forward` or `generate` was given no tokens.
    case emptyInput
    /// More positions than the session's KV cache holds.
    case contextOverflow(length: Int, adding: Int, maxContext: Int)
    /// A token id outside the plan's vocabulary.
    case tokenOutOfRange(token: Int, index: Int, vocabSize: Int)
    /// A session's context length outside 1...the plan's maximum.
    case badMaxContext(requested: Int, planMax: Int)
    /// Sampling settings out of range.
    case badSampling(problem: String)
    /// A plan tokenizer's token kind that Pare does not know.
    case unknownTokenKind(index: Int, kind: String)

    /// A message naming what is wrong and where.
    public var errorDescription: String? {
        switch self {
        case let .badModelShape(field, value, problem):
            return "plan model shape: \(field) is \(value); \(problem)"
        case let .weightsMisaligned(address):
            return "weight blob at address 0x\(String(address, radix: 16)) is not 4-byte aligned; float32 tensors need it"
        case let .badTensor(tensor, problem):
            return "plan tensor '\(tensor)': \(problem)"
        case let .tensorOutOfBlob(tensor, offset, length, blobBytes):
            return "plan tensor '\(tensor)' spans bytes \(offset)..<\(offset + length) but the weight blob has \(blobBytes) bytes"
        case let .bufferOutOfArena(buffer, offset, width, rowFloats):
            return "plan buffer '\(buffer)' spans floats \(offset)..<\(offset + width) of a row but the arena row holds \(rowFloats)"
        case let .badKVLayer(slot, problem):
            return "plan KV layer \(slot): \(problem)"
        case let .badOutput(problem):
            return "plan output buffer: \(problem)"
        case let .badOperands(step, problem):
            return "\(step): \(problem)"
        case let .weightShape(step, tensor, shape, expected):
            return "\(step): weight '\(tensor)' has shape \(shape); expected \(expected)"
        case let .bufferWidth(step, buffer, width, expected):
            return "\(step): buffer '\(buffer)' has width \(width); expected \(expected)"
        case let .badAttribute(step, attribute, problem):
            return "\(step): attribute \(attribute) \(problem)"
        case let .bufferOverlap(step, input, output):
            return "\(step): output buffer '\(output)' overlaps input buffer '\(input)', which this kernel cannot do in place"
        case let .allocationFailed(what, bytes):
            return "cannot allocate \(bytes) bytes for the \(what)"
        case .emptyInput:
            return "no tokens to run: the prompt is empty"
        case let .contextOverflow(length, adding, maxContext):
            return "context overflow: \(length) positions cached + \(adding) new exceed the session's maximum context of \(maxContext)"
        case let .tokenOutOfRange(token, index, vocabSize):
            return "token id \(token) at index \(index) is outside the plan's vocabulary 0..<\(vocabSize)"
        case let .badMaxContext(requested, planMax):
            return "session context length \(requested) is outside 1...\(planMax) (the plan's maximum context)"
        case let .badSampling(problem):
            return "sampling settings: \(problem)"
        case let .unknownTokenKind(index, kind):
            return "plan tokenizer: token \(index) has unknown kind '\(kind)' (known: normal, control, user_defined, byte, unused, unknown)"
        }
    }
}
