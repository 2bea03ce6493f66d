// Errors the interpreter reports instead of crashing on a module or input it cannot run.
import Foundation

/// Why the interpreter could not run a module.
public enum InterpreterError: Error, LocalizedError, Equatable {
    case missingWeight(String)
    case weightShape(name: String, expected: [Int], found: [Int])
    case tokenOutOfRange(token: Int, vocabulary: Int)
    case badOp(String)
    case emptyInput
    case contextFull(needed: Int, capacity: Int)

    public var errorDescription: String? {
        switch self {
        case .missingWeight(let n): return "parameter @\(n) has no materialised weight"
        case let .weightShape(n, e, f): return "parameter @\(n): weight has shape \(f), the IR declares \(e)"
        case let .tokenOutOfRange(t, v): return "token id \(t) is outside the vocabulary (size \(v))"
        case .badOp(let s): return "cannot interpret: \(s) (run `pare verify` on the module)"
        case .emptyInput: return "no input tokens"
        case let .contextFull(n, c): return "sequence of \(n) tokens exceeds the context of \(c)"
        }
    }
}
