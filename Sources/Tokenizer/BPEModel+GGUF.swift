// Building a BPEModel from GGUF tokenizer metadata (tokenizer.ggml.tokens / token_type / merges / pre).
import PareIR

extension BPEModel {
    /// A BPE model from GGUF metadata: `tokens`, `tokenTypes` (1 normal, 2 unknown, 3 control,
    /// 4 user-defined, 5 unused, 6 byte), `merges` as "left right" strings in rank order and `pre`,
    /// llama.cpp's pre-tokenizer name (`gpt2`/`gpt-2`, `smollm`, `qwen2`, `llama-bpe`/`llama3`).
    /// Throws for an unknown pre-tokenizer, a bad token type, a merge that is not two tokens, or a
    /// token/type count mismatch. Merge consistency is checked by `BPETokenizer.init`.
    public static func fromGGUF(tokens: [String], tokenTypes: [Int], merges: [String], pre: String) throws -> BPEModel {
        let preTokenizer = try PreTokenizer(ggufName: pre)
        guard tokens.count == tokenTypes.count else {
            throw TokenizerError.kindCountMismatch(tokens: tokens.count, kinds: tokenTypes.count)
        }
        let kinds: [TokenKind] = try tokenTypes.enumerated().map { i, t in
            switch t {
            case 1: return .normal
            case 2: return .unknown
            case 3: return .control
            case 4: return .userDefined
            case 5: return .unused
            case 6: return .byte
            default: throw TokenizerError.badTokenType(index: i, value: t)
            }
        }
        let pairs: [(String, String)] = try merges.enumerated().map { i, m in
            let parts = m.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw TokenizerError.badMerge(index: i, text: m)
            }
            return (String(parts[0]), String(parts[1]))
        }
        return BPEModel(tokens: tokens, kinds: kinds, merges: pairs, preTokenizer: preTokenizer.rawValue)
    }
}
