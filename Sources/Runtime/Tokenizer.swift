// The plan's tokenizer as a BPETokenizer.
import PareIR
import ParePlan
import PareTokenizer

/// Builds the tokenizer from a plan's `PlanTokenizer`. Throws `RuntimeError.unknownTokenKind` for a kind Pare
/// does not know and `TokenizerError` for inconsistent tables (a merge naming an unknown token, ...).
public func makeTokenizer(_ t: PlanTokenizer) throws -> BPETokenizer {
    let kinds: [TokenKind] = try t.kinds.enumerated().map { i, k in
        guard let kind = TokenKind(rawValue: k) else { throw RuntimeError.unknownTokenKind(index: i, kind: k) }
        return kind
    }
    let model = BPEModel(tokens: t.tokens, kinds: kinds, merges: t.merges.map { ($0.left, $0.right) },
                         preTokenizer: t.preTokenizer)
    return try BPETokenizer(model: model)
}
