// Errors lifting a checkpoint into IR, or loading a module and its source again.
import Foundation

/// Why a checkpoint or a `.pir` file could not be turned into a runnable module.
public enum LiftError: Error, LocalizedError, Equatable {
    case unsupportedArchitecture(path: String, architecture: String)
    case missingMetadata(path: String, key: String)
    case badMetadata(path: String, key: String, detail: String)
    case missingTensor(path: String, tensor: String)
    case tensorShape(path: String, tensor: String, expected: [Int], found: [Int])
    case notAModel(path: String)
    case sourceMissing(pir: String, source: String)
    case sourceChanged(pir: String, source: String, expected: String, found: String)
    case unsupportedVocabulary(path: String, detail: String)

    public var errorDescription: String? {
        switch self {
        case let .unsupportedArchitecture(p, a): return "\(p): architecture '\(a)' is not supported (Pare lifts llama, qwen2 and mistral)"
        case let .missingMetadata(p, k): return "\(p): required metadata '\(k)' is missing"
        case let .badMetadata(p, k, d): return "\(p): metadata '\(k)' \(d)"
        case let .missingTensor(p, t): return "\(p): tensor '\(t)' is missing; the checkpoint is incomplete"
        case let .tensorShape(p, t, e, f): return "\(p): tensor '\(t)' has shape \(f), the model config implies \(e)"
        case .notAModel(let p): return "\(p): not a GGUF file, a Hugging Face directory (config.json) or a .pir file"
        case let .sourceMissing(pir, s): return "\(pir): its source checkpoint \(s) does not exist; restore it or edit source.path"
        case let .sourceChanged(pir, s, e, f): return "\(pir): source checkpoint \(s) has sha256 \(f), the module was lifted from \(e); re-lift it with `pare dump-ir`"
        case let .unsupportedVocabulary(p, d): return "\(p): \(d)"
        }
    }
}
