// Typed errors of the tokenizer: inconsistent BPE tables, unknown pre-tokenizers, malformed tokenizer files.
import Foundation
import PareIR

/// What went wrong building a tokenizer or reading its tables. Every message names the source and the culprit.
public enum TokenizerError: Error, LocalizedError, Equatable {
    /// A pre-tokenizer name (BPEModel, GGUF `tokenizer.ggml.pre`) that Pare does not implement.
    case unknownPreTokenizer(name: String, known: [String])
    /// `tokens` and `kinds` differ in length.
    case kindCountMismatch(tokens: Int, kinds: Int)
    /// Two ids carry the same token string.
    case duplicateToken(token: String, firstId: Int, secondId: Int)
    /// Merge rule `rank` names a token that is not in the vocabulary.
    case mergeTokenUnknown(rank: Int, token: String)
    /// Merge rule `rank` joins two tokens whose concatenation is not in the vocabulary.
    case mergeResultUnknown(rank: Int, left: String, right: String)
    /// A GGUF `tokenizer.ggml.token_type` value outside 1...6.
    case badTokenType(index: Int, value: Int)
    /// A GGUF merge that is not two tokens separated by one space.
    case badMerge(index: Int, text: String)
    /// A file that cannot be read.
    case unreadable(file: String, reason: String)
    /// Text that is not JSON; `line`/`column` are 1-based.
    case invalidJSON(file: String, line: Int, column: Int, reason: String)
    /// JSON that is not what a tokenizer file must hold at `path` (e.g. `$.model.merges[12]`).
    case malformed(file: String, path: String, reason: String)
    /// A valid tokenizer file using a feature Pare's tokenizer does not reproduce exactly.
    case unsupported(file: String, path: String, what: String)

    public var errorDescription: String? {
        switch self {
        case let .unknownPreTokenizer(name, known):
            return "unknown pre-tokenizer '\(name)' (known: \(known.joined(separator: ", ")))"
        case let .kindCountMismatch(tokens, kinds):
            return "BPE model has \(tokens) tokens but \(kinds) token kinds"
        case let .duplicateToken(token, firstId, secondId):
            return "BPE model has token \(quoted(token)) twice, as ids \(firstId) and \(secondId)"
        case let .mergeTokenUnknown(rank, token):
            return "BPE merge #\(rank) names token \(quoted(token)), which is not in the vocabulary"
        case let .mergeResultUnknown(rank, left, right):
            return "BPE merge #\(rank) (\(quoted(left)), \(quoted(right))) makes \(quoted(left + right)), "
                + "which is not in the vocabulary"
        case let .badTokenType(index, value):
            return "GGUF tokenizer.ggml.token_type[\(index)] is \(value); expected 1 (normal) ... 6 (byte)"
        case let .badMerge(index, text):
            return "GGUF tokenizer.ggml.merges[\(index)] is \(quoted(text)); expected two tokens separated by one space"
        case let .unreadable(file, reason):
            return "\(file): cannot read: \(reason)"
        case let .invalidJSON(file, line, column, reason):
            return "\(file):\(line):\(column): invalid JSON: \(reason)"
        case let .malformed(file, path, reason):
            return "\(file): \(path): \(reason)"
        case let .unsupported(file, path, what):
            return "\(file): \(path): unsupported: \(what)"
        }
    }
}

/// A token string as a readable, escaped literal for messages (the IR's string quoting).
func quoted(_ s: String) -> String { quoteIRString(s) }
