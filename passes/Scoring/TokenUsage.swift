// Token usage: how often a tokenizer emits each id over a corpus, the usage statistic vocabulary pruning keeps by.
import Foundation
import PareTokenizer

/// Occurrences of each token id when a corpus is tokenized. A scorer: `vocab-prune` keeps the ids whose
/// count reaches `min-count` (the paper's Eq. 7, usage >= threshold).
public struct TokenUsage: Sendable, Equatable {
    /// [vocabulary] occurrences per id.
    public private(set) var counts: [Int]
    /// Total tokens counted.
    public private(set) var tokens = 0

    /// No occurrences yet, over ids 0..<vocabularySize.
    public init(vocabularySize: Int) { counts = [Int](repeating: 0, count: vocabularySize) }

    /// Counts the ids of one tokenized text (ids outside the vocabulary are ignored).
    public mutating func add(_ ids: [Int]) {
        for id in ids where counts.indices.contains(id) {
            counts[id] += 1
            tokens += 1
        }
    }

    /// Tokenizes `text` with `tokenizer` (no BOS) and counts every id.
    public static func measure(_ text: String, tokenizer: BPETokenizer, vocabularySize: Int) -> TokenUsage {
        var u = TokenUsage(vocabularySize: vocabularySize)
        u.add(tokenizer.encode(text))
        return u
    }

    /// The ids used at least `minCount` times, increasing.
    public func used(minCount: Int) -> [Int] { counts.indices.filter { counts[$0] >= Swift.max(minCount, 1) } }

    /// Number of distinct ids used at least once.
    public var distinct: Int { counts.reduce(0) { $0 + ($1 > 0 ? 1 : 0) } }
}
