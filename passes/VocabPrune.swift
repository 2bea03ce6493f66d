// vocab-prune: keeps the tokens a code corpus uses (the paper's Algorithm 1, done so the pruned tokenizer is exact) and,
// with select=mass, the tokens carrying the model's own next-token probability on that corpus; rewrites the BPE model
// with a monotone new -> old id map, and shrinks the embedding and LM head rows to match.
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
// Kept = ids the corpus uses >= min-count times (tokenized with the module's current tokenizer) ∪ (select=mass) the
// smallest set of ids carrying `mass` of the probability the module (before the pass) puts on next tokens over
// windows of the corpus (the TokenMass scorer; ties by id) ∪ every special,
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

/// Prunes the vocabulary to the tokens a corpus uses (and, with `select=mass`, the tokens the model itself puts
/// probability on over that corpus), closed under merge chains, plus bytes and special tokens.
/// Statistics: `vocabulary before/after`, `merges before/after`, `corpus tokens`, `kept by corpus`, (mass:) `kept by
/// mass`, `mass threshold`, `mass positions`, `mass carried`; `kept specials`, `kept bytes`, `kept by merge chains`,
/// `parameters removed`; with held-out text in the context, `held-out tokenizations changed` (and, added by the pass
/// manager's held-out check, `held-out removed mass`). Records: `kept` (source ids), `corpus` (path), `corpus_sha256`, `corpus_bytes`,
/// `corpus_tokens`, `min_count`; with select=mass also `select`, `mass`, `mass_windows`, `mass_positions`,
/// `mass_carried`, `kept_by_corpus`, `kept_by_mass`, `kept_by_merge_chains`.
public struct VocabPrune: Pass {
    /// `vocab-prune`.
    public let name = "vocab-prune"
    /// One line for `pare passes` and the docs.
    public let summary = "Keep the tokens a corpus uses (select=mass: and those carrying the model's own probability on it), with their merge chains, bytes and specials; shrink embedding and LM head"
    /// It removes parameter rows: the pass manager KL-checks it.
    public var isPruning: Bool { true }

    /// The corpus file (UTF-8 text).
    public var corpus: String
    /// A token is kept when the corpus uses it at least this often.
    public var minCount: Int
    /// How tokens are selected besides specials, bytes and merge chains.
    public var selection: Selection

    /// What a token must do to be kept (besides being special, a byte, or on a kept token's merge chain).
    public enum Selection: Equatable, Sendable {
        /// The corpus uses it (`select=corpus`, the paper's Algorithm 1).
        case corpus
        /// The corpus uses it, or it is in the smallest set of tokens carrying `share` of the next-token probability
        /// the model (before the pass) puts over `samples` windows of `length` tokens of the corpus (`select=mass`).
        case mass(share: Double, samples: Int, length: Int)
    }

    /// A pass keeping the tokens `corpus` uses at least `minCount` times (and, by `selection`, the tokens carrying the
    /// model's probability mass on it).
    public init(corpus: String, minCount: Int = 1, selection: Selection = .corpus) {
        self.corpus = corpus
        self.minCount = minCount
        self.selection = selection
    }

    /// Where the shipped corpus of `select=corpus` is, relative to the repository root: Python (CPython's standard
    /// library), the paper recipe's corpus.
    public static let shippedCorpus = "data/corpus/code.txt"
    /// Where the shipped corpus of `select=mass` is: code in several languages with its comments and docs.
    public static let shippedMixedCorpus = "data/corpus/mixed.txt"

    /// The shipped corpus `file` (default: `shippedCorpus`), if it can be found: under `$PARE_DATA` (without the
    /// leading `data/`), under the current directory, or under a parent of the running executable's directory
    /// (`.build/release/pare` in a checkout).
    public static func defaultCorpus(_ file: String = shippedCorpus) -> String? {
        var candidates: [String] = []
        if let data = ProcessInfo.processInfo.environment["PARE_DATA"] { candidates.append(data + "/" + file.dropFirst("data/".count)) }
        candidates.append(FileManager.default.currentDirectoryPath + "/" + file)
        var dir = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(dir.appendingPathComponent(file).path)
            dir.deleteLastPathComponent()
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// The options `vocab-prune{...}` accepts.
    public static let options: [OptionSpec] = [
        OptionSpec("corpus", .path, help: "UTF-8 corpus whose tokens are kept (default: the shipped \(shippedCorpus) for select=corpus, "
                   + "\(shippedMixedCorpus) for select=mass)"),
        OptionSpec("min-count", .int(1...1_000_000), default: "1", help: "keep a token the corpus uses at least this many times"),
        OptionSpec("select", .choice(["corpus", "mass"]), default: "corpus",
                   help: "corpus: the tokens the corpus uses (Algorithm 1); mass: also the fewest tokens carrying `mass` of the "
                   + "model's own next-token probability on windows of the corpus"),
        OptionSpec("mass", .double(0.5...0.99999), default: "0.995",
                   help: "select=mass: share of the model's next-token probability the mass-kept tokens carry"),
        OptionSpec("mass-samples", .int(1...1024), default: "16", help: "select=mass: windows of the corpus the model reads"),
        OptionSpec("mass-length", .int(16...2048), default: "256", help: "select=mass: tokens per window"),
    ]

    /// Creates the pass from validated options; without `corpus` it uses the shipped corpus of its selection, if found.
    public init(options o: PassOptions) throws {
        let mass = o.string("select") == "mass"
        if !mass, let given = ["mass", "mass-samples", "mass-length"].first(where: { o.has($0) }) {
            throw PassError.badOption(pass: "vocab-prune", option: given, message: "option '\(given)' needs select=mass")
        }
        let shipped = mass ? VocabPrune.shippedMixedCorpus : VocabPrune.shippedCorpus
        guard let path = o.string("corpus") ?? VocabPrune.defaultCorpus(shipped) else {
            throw PassError.badOption(pass: "vocab-prune", option: "corpus",
                                      message: "no corpus given and the shipped \(shipped) was not found; give corpus=FILE")
        }
        corpus = path
        minCount = o.int("min-count") ?? 1
        selection = mass ? .mass(share: o.double("mass") ?? 0.995, samples: o.int("mass-samples") ?? 16, length: o.int("mass-length") ?? 256)
            : .corpus
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
        let tokenizer = try BPETokenizer(model: bpe)
        let corpusIDs = tokenizer.encode(text)
        var usage = TokenUsage(vocabularySize: bpe.tokens.count)
        usage.add(corpusIDs)

        // Score (select=mass): the module's own next-token probability over windows of the corpus.
        var massScore: (mass: TokenMass, kept: [Int], windows: String)?
        if case let .mass(share, samples, length) = selection {
            let store = try context.requireStore(name)
            guard corpusIDs.count >= samples * length else {
                throw PassError.badOption(pass: name, option: "mass-samples", message: "the corpus has \(corpusIDs.count) tokens; "
                    + "\(samples) windows of \(length) need \(samples * length): give fewer or shorter windows, or a longer corpus")
            }
            let starts = windowStarts(tokens: corpusIDs.count, samples: samples, length: length) { t in
                t == 0 || tokenizer.decode([corpusIDs[t - 1]]).hasSuffix("\n")
            }
            let mass = try TokenMass.measure(before, store: store, sequences: starts.map { Array(corpusIDs[$0..<($0 + length)]) },
                                             progress: { context.progress("mass: window \($0)/\(samples)") })
            let kept = mass.smallestSet(carrying: share).filter { $0 < bpe.tokens.count }
            massScore = (mass, kept, "\(samples) x \(length) of its \(corpusIDs.count) tokens")
        }

        // Keep: corpus ∪ mass ∪ specials ∪ bytes ∪ merge chains; new ids are kept ids in increasing order.
        for s in vocab.specials where s.id >= bpe.tokens.count {
            throw VocabPruneError.inconsistent("special '\(s.role)' has id \(s.id), beyond the BPE model's \(bpe.tokens.count) tokens")
        }
        let keep = try bpe.keepSet(used: usage.used(minCount: minCount), massive: massScore?.kept ?? [],
                                   specials: vocab.specials.map(\.id))
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
        var keptMask = [Bool](repeating: false, count: vocab.size)
        for id in kept { keptMask[id] = true }
        var carried: Double?
        if case let .mass(share, _, _) = selection, let m = massScore {
            carried = m.mass.share(keeping: keptMask)
            context.record(&r, "select", .string("mass"))
            context.record(&r, "mass", .float(share))
            context.record(&r, "mass_windows", .string(m.windows))
            context.record(&r, "mass_positions", .int(m.mass.positions))
            context.record(&r, "mass_carried", .float(carried ?? 0))
            context.record(&r, "kept_by_corpus", .int(keep.count(.corpus)))
            context.record(&r, "kept_by_mass", .int(keep.count(.mass)))
            context.record(&r, "kept_by_merge_chains", .int(keep.count(.mergeChain)))
        }

        var stats = PassStatistics()
        stats.add("vocabulary before", vocab.size)
        stats.add("vocabulary after", kept.count)
        stats.add("merges before", bpe.merges.count)
        stats.add("merges after", prunedBPE.merges.count)
        stats.add("corpus tokens", usage.tokens)
        stats.add("kept by corpus", keep.count(.corpus))
        if case let .mass(share, _, _) = selection, let m = massScore {
            stats.add("kept by mass", keep.count(.mass))
            stats.add("mass threshold", .float(share))
            stats.add("mass positions", m.mass.positions)
            stats.add("mass carried", .float(carried ?? 0))
        }
        stats.add("kept specials", keep.count(.special))
        stats.add("kept bytes", keep.count(.byte))
        stats.add("kept by merge chains", keep.count(.mergeChain))
        stats.add("parameters removed", before.parameterCount - r.module.parameterCount)
        if let heldOut = context.heldOut {
            stats.add("held-out tokenizations changed",
                      .string(try heldOutChanges(heldOut, original: tokenizer, pruned: prunedBPE, kept: kept, size: vocab.size)))
        }
        return stats
    }

    /// On held-out text: the share of prompt-sized blocks (held-out pieces cut at blank lines) that the pruned
    /// tokenizer reads differently from the original (their ids mapped). The removed mass there needs the model: the
    /// pass manager's held-out check measures it and adds `held-out removed mass` to these statistics.
    func heldOutChanges(_ heldOut: HeldOutText, original: BPETokenizer, pruned: BPEModel, kept: [Int], size: Int) throws -> String {
        let prunedTokenizer = try BPETokenizer(model: pruned)
        var newID = [Int](repeating: -1, count: size)
        for (n, o) in kept.enumerated() { newID[o] = n }
        var blocks = 0, changed = 0
        for text in heldOut.texts {
            for block in text.components(separatedBy: "\n\n") where !block.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                blocks += 1
                if original.encode(block).map({ newID[$0] }) != prunedTokenizer.encode(block) { changed += 1 }
            }
        }
        return String(format: "%.1f%% (%d of %d blocks)", blocks > 0 ? Double(changed) / Double(blocks) * 100 : 0, changed, blocks)
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
