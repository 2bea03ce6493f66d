// vocab-prune: keeps the tokens a code corpus uses (the paper's Algorithm 1, done so the pruned tokenizer is exact),
// rewrites the BPE model with a monotone new -> old id map, and shrinks the embedding and LM head rows to match.
//
//   vocabulary bpe {size = 8, merges = 3, pre_tokenizer = "qwen2"} {
//     special eos = 7 "<|endoftext|>"
//   }
//   param @token_embd.weight : tensor<8x4xf32> = load "token_embd.weight" q8_0 [8, 4]
//   %0 = embed @token_embd.weight, %tokens : tensor<?x4xf32>
//   %9 = linear %8, @token_embd.weight : tensor<?x8xf32>
//   return %9
// -> vocab-prune{corpus=code.txt}   (the corpus uses ids 2 and 5; 5 = merge(3, 4); ids 0, 1 are byte tokens)
//   vocabulary bpe {size = 6, merges = 1, pre_tokenizer = "qwen2"} {
//     special eos = 5 "<|endoftext|>"
//     id_map = [0..5, 7]
//   }
//   param @token_embd.weight : tensor<6x4xf32> = load "token_embd.weight" q8_0 [8, 4] | rows([0..5, 7])
//   %0 = embed @token_embd.weight, %tokens : tensor<?x4xf32>
//   %9 = linear %8, @token_embd.weight : tensor<?x6xf32>
//   return %9
//
// Kept = ids the corpus uses >= min-count times (tokenized with the module's current tokenizer) ∪ every special,
// control, user-defined and unknown token ∪ the 256 byte tokens ∪ the merge-chain closure of all of them (see
// Sources/Tokenizer/BPEModel+Pruning.swift for why the closure makes the pruned tokenizer give exactly the mapped
// ids on every text the original tokenizes with kept tokens). New ids are the kept ids in increasing order. The
// id map composes: on a module already pruned it maps new ids to the ORIGINAL checkpoint's ids, and `source_size`
// stays the original checkpoint's vocabulary size (the range of the id map). Embedding and LM
// head rows compose the same way: a chain ending in `rows(A)` gets `rows([A[k] for k in kept])`, so a plain table's
// rows view equals the id map; a tied table stays one parameter read by both `embed` and the head `linear`.
import Foundation
import PareIR
import PareTokenizer
import CSHA256

/// Prunes the vocabulary to the tokens a corpus uses, closed under merge chains, plus bytes and special tokens.
/// Statistics: `vocabulary before/after`, `merges before/after`, `corpus tokens`, `kept by corpus`, `kept specials`,
/// `kept bytes`, `kept by merge chains`, `parameters removed`. Records: `kept` (source ids), `corpus` (path),
/// `corpus_bytes`, `corpus_tokens`, `min_count`.
public struct VocabPrune: Pass {
    /// `vocab-prune`.
    public let name = "vocab-prune"
    /// One line for `pare passes` and the docs.
    public let summary = "Keep the tokens a code corpus uses (with their merge chains, bytes and specials); shrink embedding and LM head"
    /// It removes parameter rows: the pass manager KL-checks it.
    public var isPruning: Bool { true }

    /// The corpus file (UTF-8 text).
    public var corpus: String
    /// A token is kept when the corpus uses it at least this often.
    public var minCount: Int

    /// A pass keeping the tokens `corpus` uses at least `minCount` times.
    public init(corpus: String, minCount: Int = 1) {
        self.corpus = corpus
        self.minCount = minCount
    }

    /// Where the shipped corpus is, relative to the repository root.
    public static let shippedCorpus = "data/corpus/code.txt"

    /// The shipped corpus, if it can be found: under `$PARE_DATA` (as `corpus/code.txt`), under the current
    /// directory, or under a parent of the running executable's directory (`.build/release/pare` in a checkout).
    public static func defaultCorpus() -> String? {
        var candidates: [String] = []
        if let data = ProcessInfo.processInfo.environment["PARE_DATA"] { candidates.append(data + "/corpus/code.txt") }
        candidates.append(FileManager.default.currentDirectoryPath + "/" + shippedCorpus)
        var dir = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(dir.appendingPathComponent(shippedCorpus).path)
            dir.deleteLastPathComponent()
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// The options `vocab-prune{...}` accepts.
    public static let options: [OptionSpec] = [
        OptionSpec("corpus", .path, help: "UTF-8 code corpus whose tokens are kept (default: the shipped \(shippedCorpus))"),
        OptionSpec("min-count", .int(1...1_000_000), default: "1", help: "keep a token the corpus uses at least this many times"),
    ]

    /// Creates the pass from validated options; without `corpus` it uses the shipped corpus, if found.
    public init(options o: PassOptions) throws {
        guard let path = o.string("corpus") ?? VocabPrune.defaultCorpus() else {
            throw PassError.badOption(pass: "vocab-prune", option: "corpus",
                                      message: "no corpus given and the shipped \(VocabPrune.shippedCorpus) was not found; give corpus=FILE")
        }
        corpus = path
        minCount = o.int("min-count") ?? 1
    }

    /// The registry entry.
    public static var entry: PassRegistry.Entry {
        let sample = VocabPrune(corpus: "")
        return PassRegistry.Entry(name: sample.name, summary: sample.summary, options: options, isPruning: true,
                                  make: { try VocabPrune(options: $0) })
    }

    /// The corpus text; a typed error names the file and what is wrong with it.
    func readCorpus() throws -> (text: String, bytes: Int, sha256: String) {
        guard let data = FileManager.default.contents(atPath: corpus) else {
            throw PassError.badOption(pass: name, option: "corpus", message: "cannot read corpus '\(corpus)' (missing, a directory, or unreadable)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw PassError.badOption(pass: name, option: "corpus", message: "corpus '\(corpus)' is not UTF-8 text")
        }
        guard !text.isEmpty else { throw PassError.badOption(pass: name, option: "corpus", message: "corpus '\(corpus)' is empty") }
        var digest = [UInt8](repeating: 0, count: 32)
        data.withUnsafeBytes { pare_sha256($0.baseAddress, $0.count, &digest) }
        return (text, data.count, digest.map { String(format: "%02x", $0) }.joined())
    }

    /// Counts the corpus, builds the kept set and the pruned BPE model, and rewrites tables, head and vocabulary.
    public func run(_ r: inout Rewriter, context: PassContext) throws -> PassStatistics {
        let before = r.module
        let vocab = before.vocabulary
        guard let bpe = vocab.bpe else {
            throw PassError.needsData(pass: name, what: "the BPE tables of the vocabulary (loaded from the source checkpoint)")
        }
        guard bpe.tokens.count <= vocab.size else {
            throw VocabPruneError.inconsistent("the BPE model has \(bpe.tokens.count) tokens but the vocabulary only \(vocab.size) ids")
        }
        let targets = try VocabPruneTargets(before)

        // Count: tokenize the corpus with the current tokenizer.
        let (text, bytes, corpusSHA256) = try readCorpus()
        let usage = TokenUsage.measure(text, tokenizer: try BPETokenizer(model: bpe), vocabularySize: bpe.tokens.count)

        // Keep: corpus ∪ specials ∪ bytes ∪ merge chains; new ids are kept ids in increasing order.
        for s in vocab.specials where s.id >= bpe.tokens.count {
            throw VocabPruneError.inconsistent("special '\(s.role)' has id \(s.id), beyond the BPE model's \(bpe.tokens.count) tokens")
        }
        let keep = try bpe.keepSet(used: usage.used(minCount: minCount), specials: vocab.specials.map(\.id))
        let kept = keep.ids
        let prunedBPE = try bpe.pruned(keeping: kept)
        var newID = [Int](repeating: -1, count: vocab.size)  // [old vocabulary] old id -> new id, -1 if dropped
        for (n, o) in kept.enumerated() { newID[o] = n }
        let sourceMap = kept.map { vocab.idMap?[$0] ?? $0 }

        // Rewrite: rows of the tables, the head's type, the vocabulary.
        for name in targets.parameters {
            guard let p = r.module.parameter(name) else { throw RewriteError.noSuchParameter(name) }
            r.setParameter(p.selectingVocabularyRows(kept))
        }
        try r.updateOp(targets.head) { $0.type = TensorType([.seq, .fixed(kept.count)], $0.type.dtype) }
        var v = vocab
        v.size = kept.count
        v.mergeCount = prunedBPE.merges.count
        v.specials = vocab.specials.map { SpecialToken(role: $0.role, id: newID[$0.id], text: $0.text) }
        v.idMap = IndexList(sourceMap)
        v.sourceSize = vocab.originalSize
        v.bpe = prunedBPE
        r.setVocabulary(v)

        context.record(&r, "kept", .string(IndexList(sourceMap).description))
        // The shipped corpus is recorded by its name in the repository, so records match across machines.
        let shipped = VocabPrune.defaultCorpus().map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        let isShipped = shipped == URL(fileURLWithPath: corpus).standardizedFileURL.path
        context.record(&r, "corpus", .string(isShipped ? VocabPrune.shippedCorpus + " (shipped)" : corpus))
        context.record(&r, "corpus_sha256", .string(corpusSHA256))
        context.record(&r, "corpus_bytes", .int(bytes))
        context.record(&r, "corpus_tokens", .int(usage.tokens))
        context.record(&r, "min_count", .int(minCount))

        var stats = PassStatistics()
        stats.add("vocabulary before", vocab.size)
        stats.add("vocabulary after", kept.count)
        stats.add("merges before", bpe.merges.count)
        stats.add("merges after", prunedBPE.merges.count)
        stats.add("corpus tokens", usage.tokens)
        stats.add("kept by corpus", keep.count(.corpus))
        stats.add("kept specials", keep.count(.special))
        stats.add("kept bytes", keep.count(.byte))
        stats.add("kept by merge chains", keep.count(.mergeChain))
        stats.add("parameters removed", before.parameterCount - r.module.parameterCount)
        return stats
    }
}

/// A module vocab-prune cannot rewrite consistently.
public enum VocabPruneError: Error, LocalizedError, Equatable {
    /// The module's vocabulary, BPE tables or vocabulary-sized parameters disagree; the message says how.
    case inconsistent(String)

    public var errorDescription: String? {
        switch self {
        case .inconsistent(let what): return "vocab-prune: \(what)"
        }
    }
}

/// The parts of a module sized by the vocabulary: embedding tables, the LM head weight (and bias), the head op.
private struct VocabPruneTargets {
    /// Parameters whose rows are token ids, in declaration order (a tied table once).
    var parameters: [String]
    /// The `linear` producing the returned logits.
    var head: Value

    init(_ m: Module) throws {
        let embeds = m.function.ops.filter { $0.kind == .embed }
        guard !embeds.isEmpty else { throw VocabPruneError.inconsistent("the module has no embed op") }
        guard let headOp = m.function.ops.first(where: { $0.result == m.function.result }), headOp.kind == .linear else {
            throw VocabPruneError.inconsistent("the returned logits must be computed by the LM head `linear`")
        }
        var names = Set(embeds.compactMap(\.paramOperands.first))
        names.formUnion(headOp.paramOperands)
        for name in names {
            guard let p = m.parameter(name) else { throw VocabPruneError.inconsistent("parameter @\(name) is not declared") }
            guard p.shape.first == m.vocabulary.size else {
                throw VocabPruneError.inconsistent("@\(name) has \(p.shape.first ?? 0) rows but the vocabulary has \(m.vocabulary.size) ids")
            }
        }
        parameters = m.parameters.map(\.name).filter { names.contains($0) }
        head = headOp.result
    }
}

private extension Parameter {
    /// This parameter with only rows `rows` (of its current shape): a chain ending in `rows(A)` becomes
    /// `rows([A[k] for k in rows])`, any other chain gets `rows(rows)` appended.
    func selectingVocabularyRows(_ rows: [Int]) -> Parameter {
        var p = self
        if case .rows(let prior)? = views.last {
            p.views[p.views.count - 1] = .rows(IndexList(rows.map { prior[$0] }))
        } else {
            p.views.append(.rows(IndexList(rows)))
        }
        p.shape = [rows.count] + shape.dropFirst()
        return p
    }
}
