// Typed errors for every way a checkpoint can be wrong, with messages a user can act on.
import Foundation

/// An error reading a checkpoint. Every case names the file and what is wrong.
public enum CheckpointError: Error, LocalizedError, Equatable {
    case cannotOpen(path: String, reason: String)
    case badMagic(path: String, found: String)
    case unsupportedVersion(path: String, version: Int)
    case truncated(path: String, what: String)
    case unknownTensorType(path: String, tensor: String, type: Int)
    case unknownValueType(path: String, key: String, type: Int)
    case dataOutOfBounds(path: String, tensor: String, end: Int, fileSize: Int)
    case shapeMismatch(path: String, tensor: String, detail: String)
    case missingTensor(path: String, tensor: String)
    case missingKey(path: String, key: String)
    case malformed(path: String, detail: String)
    case unsupported(path: String, detail: String)

    public var errorDescription: String? {
        switch self {
        case let .cannotOpen(p, r): return "\(p): cannot open: \(r)"
        case let .badMagic(p, f): return "\(p): not a GGUF file (magic is \(f), expected \"GGUF\")"
        case let .unsupportedVersion(p, v): return "\(p): GGUF version \(v) is not supported (Pare reads versions 2 and 3)"
        case let .truncated(p, w): return "\(p): file is truncated: it ends inside \(w); re-download or re-convert it"
        case let .unknownTensorType(p, t, ty): return "\(p): tensor '\(t)' has unknown ggml type \(ty); Pare reads F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K"
        case let .unknownValueType(p, k, ty): return "\(p): metadata key '\(k)' has unknown value type \(ty)"
        case let .dataOutOfBounds(p, t, e, s): return "\(p): tensor '\(t)' data ends at byte \(e), past the end of the file (\(s) bytes); the file is truncated or corrupt"
        case let .shapeMismatch(p, t, d): return "\(p): tensor '\(t)': \(d)"
        case let .missingTensor(p, t): return "\(p): tensor '\(t)' not found"
        case let .missingKey(p, k): return "\(p): required key '\(k)' is missing"
        case let .malformed(p, d): return "\(p): \(d)"
        case let .unsupported(p, d): return "\(p): \(d)"
        }
    }
}
