// vocab-prune: the kept set on a hand-built BPE model; on SmolLM2 (tied) and Qwen2.5 (untied) the rewrite (monotone
// ids, remapped specials, table rows, .pir round trip), tokenizer equivalence on the corpus and held-out HumanEval,
// the checker failing on broken rewrites, exact logits at kept ids, generation from a pruned .pir, composed id maps;
// the TokenMass scorer and select=mass (the model's own tokens) on SmolLM2.
import Foundation
import PareFrontend
import PareIR
import PareInterpreter
import ParePasses
import PareTokenizer
import XCTest

/// A real model and the module vocab-prune made of it with the shipped corpus (computed once per test run).
struct PrunedModel {
    var original: LoadedModel
    var result: PassResult
    var module: Module { result.module }
    /// The pruned tokenizer (new ids).
    var tokenizer: BPETokenizer
    /// new id -> original id.
    var idMap: [Int]
    /// original id -> new id.
    var newID: [Int: Int]

    /// The original's ids of `text` mapped to new ids, or nil if some token is not kept.
    func mapped(_ text: String) -> [Int]? {
        let ids = original.tokenizer.encode(text).compactMap { newID[$0] }
        return ids.count == original.tokenizer.encode(text).count ? ids : nil
    }
}

enum VocabPruneFixture {
    static let corpus = Paths.root + "/data/corpus/code.txt"
    private static var originals: [String: LoadedModel] = [:]
    private static var cache: [String: PrunedModel] = [:]
    private static var heldOutCache: [String]?

    /// The model at `path`, loaded once.
    static func original(_ path: String) throws -> LoadedModel {
        if let m = originals[path] { return m }
        let m = try loadModel(try Paths.require(path))
        originals[path] = m
        return m
    }

    /// The model at `path` pruned with `corpusPath` (default: the shipped corpus), min-count 1.
    static func pruned(_ path: String, corpus corpusPath: String? = nil) throws -> PrunedModel {
        let corpusPath = try corpusPath ?? Paths.require(corpus)
        if let c = cache[path + "|" + corpusPath] { return c }
        let original = try original(path)
        let result = try runPass(VocabPrune(corpus: corpusPath), on: original.module)
        let bpe = try XCTUnwrap(result.module.vocabulary.bpe, "vocab-prune sets the pruned BPE model")
        let idMap = Array(try XCTUnwrap(result.module.vocabulary.idMap))
        var newID: [Int: Int] = [:]
        for (n, o) in idMap.enumerated() { newID[o] = n }
        let p = PrunedModel(original: original, result: result, tokenizer: try BPETokenizer(model: bpe), idMap: idMap, newID: newID)
        cache[path + "|" + corpusPath] = p
        return p
    }

    /// The corpus as one text, plus each of its lines.
    static func corpusTexts() throws -> [String] {
        let text = try String(contentsOfFile: try Paths.require(corpus), encoding: .utf8)
        return [text] + text.split(separator: "\n").map(String.init)
    }

    /// The first `bytes` bytes of the corpus, cut after the last newline.
    static func corpusExcerpt(bytes: Int) throws -> String {
        let text = try String(contentsOfFile: try Paths.require(corpus), encoding: .utf8)
        let head = Array(text.utf8.prefix(bytes))
        let cut = (head.lastIndex(of: UInt8(ascii: "\n")) ?? head.count - 1) + 1
        return String(decoding: head[..<cut], as: UTF8.self)
    }

    /// Held-out code: HumanEval prompts and solutions (not in the corpus), each also line by line, and tricky strings.
    static func heldOut() throws -> [String] {
        if let c = heldOutCache { return c }
        let he = try TokenizerCorpus.humanEval()
        let texts = he + he.flatMap { $0.split(separator: "\n").map(String.init) } + TokenizerCorpus.tricky
        heldOutCache = texts
        return texts
    }
}

final class VocabPruneTests: XCTestCase {
    // MARK: A hand-built BPE model

    /// 256 byte tokens, then ab, bc, abc (made two ways), cd, abcd, dd, a control token and an unmerged `zz`.
    static func tinyBPE() -> BPEModel {
        var tokens = (0..<256).map { ByteLevel.encode(bytes: [UInt8($0)]) }
        tokens += ["ab", "bc", "abc", "cd", "abcd", "dd", "<|endoftext|>", "zz"]  // 256...263
        var kinds = [TokenKind](repeating: .normal, count: tokens.count)
        kinds[262] = .control
        let merges = [("a", "b"), ("b", "c"), ("ab", "c"), ("a", "bc"), ("c", "d"), ("abc", "d"), ("d", "d")]
        return BPEModel(tokens: tokens, kinds: kinds, merges: merges, preTokenizer: "gpt2")
    }

    /// A block-free module over `tinyBPE`: embed, norm, tied head.
    static func tinyModule() throws -> Module {
        let text = """
        // pare ir v1
        module @tiny {
          metadata {
            architecture = "llama"
            source.format = "gguf"
            source.path = "tiny.gguf"
            source.sha256 = "\(String(repeating: "ab", count: 32))"
          }
          vocabulary bpe {size = 264, merges = 7, pre_tokenizer = "gpt2"} {
            special eos = 262 "<|endoftext|>"
          }

          param @token_embd.weight : tensor<264x4xf32> = load "token_embd.weight" f32 [264, 4]
          param @output_norm.weight : tensor<4xf32> = load "output_norm.weight" f32 [4]

          func @forward(%tokens: tensor<?xi32>) -> tensor<?x264xf32> {
            %0 = embed @token_embd.weight, %tokens : tensor<?x4xf32>
            %1 = rms_norm %0, @output_norm.weight {eps = 1e-05} : tensor<?x4xf32>
            %2 = linear %1, @token_embd.weight : tensor<?x264xf32>
            return %2
          }
        }

        """
        var m = try parseModule(text, file: "tiny.pir")
        XCTAssertEqual(verify(m), [])
        m.vocabulary.bpe = tinyBPE()
        return m
    }

    func testKeptSetIsCorpusSpecialsBytesAndEveryMergeChain() throws {
        let dir = try TempDir()
        // "abc abc" tokenizes as [abc, Ġ, abc] (a b -> ab, ab c -> abc). abc is also made by (a, bc): bc is kept too.
        let corpus = try dir.write("c.txt", Data("abc abc".utf8))
        let pass = VocabPrune(corpus: corpus)
        let r = try runPass(pass, on: try Self.tinyModule())
        let v = r.module.vocabulary
        let expected = Array(0...258) + [262]
        XCTAssertEqual(v.idMap, IndexList(expected))
        XCTAssertEqual(v.size, 260)
        XCTAssertEqual(v.mergeCount, 4)
        XCTAssertEqual(v.bpe?.merges.map { "\($0.0) \($0.1)" }, ["a b", "b c", "ab c", "a bc"])
        XCTAssertEqual(v.bpe?.tokens, expected.map { Self.tinyBPE().tokens[$0] })
        XCTAssertEqual(v.specials, [SpecialToken(role: "eos", id: 259, text: "<|endoftext|>")])
        XCTAssertEqual(r.module.parameter("token_embd.weight")?.views, [.rows(IndexList(expected))])
        XCTAssertEqual(r.module.parameter("token_embd.weight")?.shape, [260, 4])
        XCTAssertEqual(r.module.function.ops.last?.type, TensorType([.seq, .fixed(260)]))
        XCTAssertEqual(r.statistics.description, "vocabulary before = 264, vocabulary after = 260, merges before = 7, merges after = 4, "
            + "corpus tokens = 3, kept by corpus = 2, kept specials = 1, kept bytes = 255, kept by merge chains = 2, parameters removed = 16")
        XCTAssertEqual(r.module[meta: "decision.0.kept"], .string("[0..258, 262]"))
        XCTAssertEqual(r.module[meta: "decision.0.corpus"], .string(corpus))
        XCTAssertEqual(r.module[meta: "decision.0.corpus_bytes"], .int(7))
        XCTAssertEqual(r.module[meta: "decision.0.corpus_tokens"], .int(3))
        XCTAssertEqual(r.module[meta: "decision.0.min_count"], .int(1))
        XCTAssertTrue(r.changed)

        // min-count 3: the corpus uses nothing three times; bytes and the special stay, abc and its chain go.
        let strict = try runPass(VocabPrune(corpus: corpus, minCount: 3), on: try Self.tinyModule())
        XCTAssertEqual(strict.module.vocabulary.idMap, IndexList(Array(0...255) + [262]))
        XCTAssertEqual(strict.module.vocabulary.mergeCount, 0)

        // The pruned tokenizer matches the original on covered text and spells anything else in bytes.
        let original = try BPETokenizer(model: Self.tinyBPE()), pruned = try BPETokenizer(model: try XCTUnwrap(v.bpe))
        let report = checkTokenizerEquivalence(original: original, pruned: pruned, idMap: expected,
                                               texts: ["abc", "a bc abc", "abcd dd", "cdzz<|endoftext|>"])
        XCTAssertTrue(report.passed, report.description)
        XCTAssertEqual(report.covered, 2)
        XCTAssertEqual(pruned.encode("abcd"), [258, 100])
    }

    func testBPEPruningRejectsIDsThatAreNotAMonotoneSelection() throws {
        let bpe = Self.tinyBPE()
        XCTAssertThrowsError(try bpe.pruned(keeping: [0, 2, 1])) {
            XCTAssertEqual($0 as? BPEPruningError, .idsNotIncreasing(index: 2, previous: 2, id: 1))
        }
        XCTAssertThrowsError(try bpe.pruned(keeping: [0, 264])) { XCTAssertEqual($0 as? BPEPruningError, .idOutOfRange(id: 264, count: 264)) }
        var mask = [false, true]
        XCTAssertThrowsError(try bpe.closeUnderMergeChains(&mask)) { XCTAssertEqual($0 as? BPEPruningError, .maskSize(found: 2, tokens: 264)) }
        // abcd (260) kept without its parts: the merges making it are (abc, d); abc (258) has two routes.
        XCTAssertEqual(bpe.unclosedTokens(keeping: Array(0...255) + [260]), [260])
        XCTAssertEqual(bpe.unclosedTokens(keeping: Array(0...258) + [260]), [])
        XCTAssertEqual(bpe.unclosedTokens(keeping: Array(0...256) + [258]), [258], "abc without bc: the (a, bc) route is open")
        XCTAssertEqual(bpe.byteTokenIDs(), Array(0...255))
        XCTAssertEqual(bpe.addedTokenIDs(), [262])
    }

    func testOptionsAndMissingData() throws {
        let entry = try XCTUnwrap(PassRegistry.standard.entry(named: "vocab-prune"))
        XCTAssertEqual(entry.options.map(\.name), ["corpus", "min-count", "select", "mass", "mass-samples", "mass-length"])
        // Mass options need select=mass; the mass share is a fraction below 1.
        XCTAssertThrowsError(try entry.make(try PassOptions(["mass": "0.99"], specs: entry.options, pass: "vocab-prune"))) {
            guard case PassError.badOption(_, let option, let message)? = $0 as? PassError else { return XCTFail("\($0)") }
            XCTAssertEqual(option, "mass")
            XCTAssertEqual(message, "option 'mass' needs select=mass")
        }
        XCTAssertThrowsError(try PassOptions(["select": "mass", "mass": "1"], specs: entry.options, pass: "vocab-prune"))
        let mass = try XCTUnwrap(try entry.make(try PassOptions(["select": "mass"], specs: entry.options, pass: "vocab-prune")) as? VocabPrune)
        XCTAssertEqual(mass.selection, .mass(share: 0.995, samples: 16, length: 256))
        XCTAssertTrue(mass.corpus.hasSuffix(VocabPrune.shippedMixedCorpus), mass.corpus)
        // select=mass runs the model: without weights (a bare .pir, the golden tests) it says so.
        XCTAssertThrowsError(try runPass(mass, on: try Self.tinyModule())) {
            guard case PassError.needsData(let name, let what)? = $0 as? PassError else { return XCTFail("\($0)") }
            XCTAssertEqual(name, "vocab-prune")
            XCTAssertEqual(what, "model weights")
        }
        XCTAssertThrowsError(try PassOptions(["min-count": "0"], specs: entry.options, pass: "vocab-prune")) {
            XCTAssertTrue($0.localizedDescription.contains("min-count"), $0.localizedDescription)
        }
        XCTAssertThrowsError(try PassOptions(["corpus": "/no/such/corpus.txt"], specs: entry.options, pass: "vocab-prune")) {
            XCTAssertTrue($0.localizedDescription.contains("no such file"), $0.localizedDescription)
        }
        // Without corpus= the shipped corpus is used.
        let pass = try XCTUnwrap(try entry.make(PassOptions([:], specs: entry.options, pass: "vocab-prune")) as? VocabPrune)
        XCTAssertEqual(URL(fileURLWithPath: pass.corpus).standardizedFileURL.path,
                       URL(fileURLWithPath: VocabPruneFixture.corpus).standardizedFileURL.path)
        // A module without its BPE tables (a bare .pir text) cannot be pruned.
        var bare = try Self.tinyModule()
        bare.vocabulary.bpe = nil
        XCTAssertThrowsError(try runPass(pass, on: bare)) {
            guard case PassError.needsData(let name, let what)? = $0 as? PassError else { return XCTFail("\($0)") }
            XCTAssertEqual(name, "vocab-prune")
            XCTAssertTrue(what.contains("BPE"), what)
        }
        let dir = try TempDir()
        XCTAssertThrowsError(try runPass(VocabPrune(corpus: try dir.write("empty.txt", Data())), on: try Self.tinyModule())) {
            XCTAssertTrue($0.localizedDescription.contains("is empty"), $0.localizedDescription)
        }
        XCTAssertThrowsError(try runPass(VocabPrune(corpus: try dir.write("bin.txt", Data([0xff, 0xfe, 0x80]))), on: try Self.tinyModule())) {
            XCTAssertTrue($0.localizedDescription.contains("not UTF-8"), $0.localizedDescription)
        }
    }

    // MARK: The rewrite on real models

    /// Checks what must hold of any pruned real model: monotone ids, specials, tables, types, records, text round trip.
    func checkRewrite(_ p: PrunedModel, tied: Bool, file: StaticString = #filePath, line: UInt = #line) throws {
        let m = p.module, before = p.original.module
        XCTAssertEqual(verify(m).filter { $0.severity == .error }, [], file: file, line: line)
        XCTAssertTrue(IndexList(p.idMap).isStrictlyIncreasing, "new -> old ids are monotone", file: file, line: line)
        XCTAssertEqual(m.vocabulary.size, p.idMap.count, file: file, line: line)
        XCTAssertEqual(p.tokenizer.count, p.idMap.count, file: file, line: line)
        XCTAssertEqual(m.vocabulary.mergeCount, m.vocabulary.bpe?.merges.count, file: file, line: line)

        // Specials: every role survives with its text, at the new id of its old id; the tokenizer agrees.
        XCTAssertEqual(m.vocabulary.specials.map(\.role), before.vocabulary.specials.map(\.role), file: file, line: line)
        for (s, old) in zip(m.vocabulary.specials, before.vocabulary.specials) {
            XCTAssertEqual(s.text, old.text, file: file, line: line)
            XCTAssertEqual(p.idMap[s.id], old.id, "\(s.role)", file: file, line: line)
            XCTAssertEqual(p.tokenizer.tokenString(s.id), s.text, "\(s.role)", file: file, line: line)
            XCTAssertEqual(p.tokenizer.encode(s.text), [s.id], "\(s.role) text encodes to the new id", file: file, line: line)
        }
        for role in ["bos", "eos", "pad"] {
            guard let old = before.vocabulary.special(role) else { continue }
            XCTAssertEqual(m.vocabulary.special(role), p.newID[old], role, file: file, line: line)
        }

        // Tables: rows(idMap) on the embedding and the head (one parameter when tied), head type V_new.
        let head = try XCTUnwrap(m.function.ops.last, file: file, line: line)
        XCTAssertEqual(head.result, m.function.result, file: file, line: line)
        XCTAssertEqual(head.type, TensorType([.seq, .fixed(p.idMap.count)]), file: file, line: line)
        let embed = try XCTUnwrap(m.function.ops.first { $0.kind == .embed }, file: file, line: line)
        let tables = Set([embed.paramOperands[0], head.paramOperands[0]])
        XCTAssertEqual(tables.count, tied ? 1 : 2, file: file, line: line)
        for name in tables {
            let param = try XCTUnwrap(m.parameter(name), file: file, line: line)
            XCTAssertEqual(param.views, [.rows(IndexList(p.idMap))], name, file: file, line: line)
            XCTAssertEqual(param.shape, [p.idMap.count, before.parameter(name)?.shape[1] ?? 0], name, file: file, line: line)
        }
        XCTAssertEqual(m.parameters.count, before.parameters.count, file: file, line: line)
        XCTAssertEqual(p.result.statistics["parameters removed"],
                       .int((before.vocabulary.size - p.idMap.count) * (before.blocks[0].hidden) * tables.count), file: file, line: line)

        // Records and the text round trip.
        XCTAssertEqual(m[meta: "decision.0.kept"], .string(IndexList(p.idMap).description), file: file, line: line)
        XCTAssertEqual(m[meta: "decision.0.min_count"], .int(1), file: file, line: line)
        let text = printModule(m)
        let again = try parseModule(text, file: "pruned.pir")
        XCTAssertEqual(again, m.canonicalized(), "parse(print(m)) == m", file: file, line: line)
        XCTAssertEqual(printModule(again), text, file: file, line: line)
    }

    func testSmolLM2RewriteIsTiedMonotoneAndRemapsSpecials() throws {
        let p = try VocabPruneFixture.pruned(Paths.smolGGUF)
        try checkRewrite(p, tied: true)
        // One table, read by both the embedding and the head.
        let readers = p.module.function.ops.filter { $0.operands.contains(.param("token_embd.weight")) }
        XCTAssertEqual(readers.map(\.kind), [.embed, .linear])
        XCTAssertLessThan(p.idMap.count, 49152 / 4)
    }

    func testQwenRewriteUntiedShrinksTheVocabularyALot() throws {
        let p = try VocabPruneFixture.pruned(Paths.qwenGGUF)
        try checkRewrite(p, tied: false)
        XCTAssertNotNil(p.module.parameter("output.weight"))
        XCTAssertLessThan(p.idMap.count, 151_936 / 10, "Qwen's 151,936 tokens shrink by more than 90% on a Python corpus")
        XCTAssertEqual(p.result.statistics["vocabulary before"], .int(151_936))
        XCTAssertEqual(p.result.statistics["kept bytes"].flatMap(\.intValue).map { $0 > 0 }, true)
    }

    // MARK: Tokenizer equivalence

    func checkEquivalence(_ path: String, minCoveredHeldOut: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let p = try VocabPruneFixture.pruned(path)
        let corpus = try VocabPruneFixture.corpusTexts()
        let onCorpus = checkTokenizerEquivalence(original: p.original.tokenizer, pruned: p.tokenizer, idMap: p.idMap, texts: corpus)
        XCTAssertTrue(onCorpus.passed, onCorpus.description, file: file, line: line)
        XCTAssertNotNil(p.mapped(corpus[0]), "the whole corpus is covered by the tokens it chose", file: file, line: line)
        // A line alone splits differently from the line in context (its indentation has no newline before it).
        XCTAssertGreaterThan(onCorpus.covered, corpus.count * 95 / 100, onCorpus.description, file: file, line: line)
        XCTAssertGreaterThan(onCorpus.tokens, 300_000, file: file, line: line)

        let heldOut = try VocabPruneFixture.heldOut()
        let onHeldOut = checkTokenizerEquivalence(original: p.original.tokenizer, pruned: p.tokenizer, idMap: p.idMap, texts: heldOut)
        XCTAssertTrue(onHeldOut.passed, onHeldOut.description, file: file, line: line)
        XCTAssertGreaterThanOrEqual(onHeldOut.covered, minCoveredHeldOut, onHeldOut.description, file: file, line: line)
        XCTAssertLessThan(onHeldOut.covered, heldOut.count, "some held-out text needs dropped tokens (and round-trips)", file: file, line: line)
        print("\(path.split(separator: "/").last ?? ""): corpus \(onCorpus)\n  held-out \(onHeldOut)")
    }

    func testSmolLM2PrunedTokenizerGivesTheMappedIDs() throws {
        try checkEquivalence(Paths.smolGGUF, minCoveredHeldOut: 1000)
    }

    func testQwenPrunedTokenizerGivesTheMappedIDs() throws {
        try checkEquivalence(Paths.qwenGGUF, minCoveredHeldOut: 1000)
    }

    func testCheckerFailsOnBrokenRewrites() throws {
        let p = try VocabPruneFixture.pruned(Paths.smolGGUF)
        let source = try XCTUnwrap(p.original.module.vocabulary.bpe)
        let corpus = try VocabPruneFixture.corpusTexts()
        let texts = [corpus[0]]

        // 1. Drop one merge-chain token: one the corpus never emits, the only route (a part of the only merge)
        //    to a token it does emit.
        let usage = TokenUsage.measure(corpus[0], tokenizer: p.original.tokenizer, vocabularySize: source.tokens.count)
        let ids = Dictionary(source.tokens.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var routes: [Int: [(Int, Int)]] = [:]
        for (a, b) in source.merges { if let l = ids[a], let r = ids[b], let m = ids[a + b] { routes[m, default: []].append((l, r)) } }
        let kept = Set(p.idMap)
        let victim = try XCTUnwrap(p.idMap.first { t in
            usage.counts[t] == 0 && routes.contains { m, rs in usage.counts[m] > 0 && rs.count == 1 && (rs[0].0 == t || rs[0].1 == t) }
        }, "some merge-chain token is the only route to a corpus token")
        XCTAssertTrue(kept.contains(victim))
        let dropped = p.idMap.filter { $0 != victim }
        let broken = try BPETokenizer(model: source.pruned(keeping: dropped))
        let r1 = checkTokenizerEquivalence(original: p.original.tokenizer, pruned: broken, idMap: dropped, texts: texts)
        XCTAssertFalse(r1.passed)
        XCTAssertEqual(r1.mismatches.count, 1, r1.description)
        XCTAssertTrue(r1.description.hasPrefix("NOT OK"), r1.description)
        XCTAssertEqual(source.unclosedTokens(keeping: dropped).isEmpty, false, "the broken set is not closed under merge chains")

        // 2. Reorder ids: swap two kept tokens the corpus uses, keeping the id map (hash-order ids would do this).
        var model = try XCTUnwrap(p.module.vocabulary.bpe)
        let used = (0..<p.idMap.count).filter { usage.counts[p.idMap[$0]] > 0 }
        model.tokens.swapAt(used[100], used[101])
        let swapped = try BPETokenizer(model: model)
        let r2 = checkTokenizerEquivalence(original: p.original.tokenizer, pruned: swapped, idMap: p.idMap, texts: texts)
        XCTAssertFalse(r2.passed)
        XCTAssertEqual(r2.tableProblems.count, 2, r2.description)
        XCTAssertEqual(r2.mismatches.count, 1, r2.description)

        // 3. An id map that is off by one for every id past the first hundred.
        let shifted = p.idMap.prefix(100) + p.idMap.dropFirst(100).map { $0 + 1 }
        let r3 = checkTokenizerEquivalence(original: p.original.tokenizer, pruned: p.tokenizer, idMap: Array(shifted), texts: texts)
        XCTAssertFalse(r3.passed)
        XCTAssertFalse(r3.tableProblems.isEmpty)

        // The intact rewrite passes on the same text.
        XCTAssertTrue(checkTokenizerEquivalence(original: p.original.tokenizer, pruned: p.tokenizer, idMap: p.idMap, texts: texts).passed)
    }

    // MARK: The model's own tokens (select=mass)

    func testTokenMassKeepsTheSmallestSetWithTiesBrokenByID() {
        var m = TokenMass(vocabularySize: 5)
        // Two positions: softmax of [0, 0, log 2, -inf-ish, 0] and [log 3, 0, 0, 0, 0].
        m.add(logits: [0, 0, Float(log(2.0)), -100, 0][...])
        m.add(logits: [Float(log(3.0)), 0, 0, 0, 0][...])
        XCTAssertEqual(m.positions, 2)
        XCTAssertEqual(m.total, 2, accuracy: 1e-12)
        // Masses: id0 0.2 + 3/7, id1 0.2 + 1/7, id2 0.4 + 1/7, id3 ~0 + 1/7, id4 0.2 + 1/7.
        XCTAssertEqual(m.mass[0], 0.2 + 3.0 / 7, accuracy: 1e-6)
        XCTAssertEqual(m.smallestSet(carrying: 0.3), [0])               // 0.63 / 2 >= 0.3
        XCTAssertEqual(m.smallestSet(carrying: 0.55), [0, 2])           // + 0.54: 1.17 / 2 >= 0.55
        // ids 1 and 4 carry the same mass: the lower id comes first.
        XCTAssertEqual(m.smallestSet(carrying: 0.75), [0, 1, 2])
        XCTAssertEqual(m.share(keeping: [true, true, true, false, false]), (m.mass[0] + m.mass[1] + m.mass[2]) / m.total, accuracy: 1e-12)
        XCTAssertEqual(TokenMass(vocabularySize: 3).smallestSet(carrying: 0.9), [])
    }

    func testMassSelectionOnSmolLM2KeepsTheCorpusTheModelsMassAndClosesMergeChains() throws {
        let smol = try VocabPruneFixture.original(Paths.smolGGUF)
        let corpus = try XCTUnwrap(VocabPrune.defaultCorpus(VocabPrune.shippedMixedCorpus))
        let context = PassContext(store: smol.store)
        let pass = VocabPrune(corpus: corpus, selection: .mass(share: 0.99, samples: 4, length: 96))
        let r = try runPass(pass, on: smol.module, context: context)
        let byCorpus = try runPass(VocabPrune(corpus: corpus), on: smol.module)
        let kept = Array(try XCTUnwrap(r.module.vocabulary.idMap)), corpusKept = Array(try XCTUnwrap(byCorpus.module.vocabulary.idMap))
        XCTAssertTrue(Set(corpusKept).isSubset(of: Set(kept)), "everything the corpus selection keeps is kept")
        XCTAssertGreaterThan(kept.count, corpusKept.count)
        XCTAssertLessThan(kept.count, 49_152 / 2)
        let s = r.statistics
        XCTAssertEqual(s["kept by corpus"], byCorpus.statistics["kept by corpus"])
        XCTAssertEqual(s["mass threshold"], .float(0.99))
        XCTAssertEqual(s["mass positions"], .int(4 * 96))
        let carried = try XCTUnwrap(s["mass carried"]?.doubleValue)
        XCTAssertGreaterThanOrEqual(carried, 0.99, "the kept set carries at least the requested share on the windows it was chosen on")
        XCTAssertGreaterThan(try XCTUnwrap(s["kept by mass"]?.intValue), 0)
        XCTAssertEqual(r.module[meta: "decision.0.select"], .string("mass"))
        XCTAssertEqual(r.module[meta: "decision.0.mass"], .float(0.99))
        XCTAssertEqual(r.module[meta: "decision.0.mass_windows"]?.stringValue?.hasPrefix("4 x 96 of its "), true)
        XCTAssertEqual(r.module[meta: "decision.0.kept_by_mass"], s["kept by mass"])

        // Recomputed independently: the model's mass over the same windows; the kept set carries >= 0.99 of it.
        let tokenizer = smol.tokenizer
        let ids = tokenizer.encode(try String(contentsOfFile: corpus, encoding: .utf8))
        let starts = windowStarts(tokens: ids.count, samples: 4, length: 96) { $0 == 0 || tokenizer.decode([ids[$0 - 1]]).hasSuffix("\n") }
        let interp = try Interpreter(module: smol.module, store: smol.store)
        var total = 0.0, inside = 0.0
        let keptSet = Set(kept)
        for start in starts {
            let t = try interp.forward(Array(ids[start..<(start + 96)]))
            for row in 0..<t.rows {
                let lp = DirectKL.logSoftmax(t.row(row).map(Double.init))
                for (j, v) in lp.enumerated() { let p = exp(v); total += p; if keptSet.contains(j) { inside += p } }
            }
        }
        XCTAssertEqual(inside / total, carried, accuracy: 1e-6)

        // The pruned tokenizer is exact (merge-chain closure) on held-out text, and the selection is deterministic.
        let bpe = try XCTUnwrap(r.module.vocabulary.bpe)
        XCTAssertEqual(smol.module.vocabulary.bpe?.unclosedTokens(keeping: kept), [])
        let report = checkTokenizerEquivalence(original: smol.tokenizer, pruned: try BPETokenizer(model: bpe), idMap: kept,
                                               texts: try VocabPruneFixture.heldOut())
        XCTAssertTrue(report.passed, report.description)
        let again = try runPass(pass, on: smol.module, context: PassContext(store: smol.store))
        XCTAssertEqual(printModule(again.module), printModule(r.module), "same inputs, same bytes")
    }

    // MARK: Running the pruned module

    func testPrunedLogitsEqualTheOriginalsAtTheMappedIDs() throws {
        let p = try VocabPruneFixture.pruned(Paths.smolGGUF)
        let prompt = "def read_lines(path):\n    with open(path) as f:\n        return [line.rstrip() for line in f]\n"
        let ids = p.original.tokenizer.encode(prompt)
        let newIDs = try XCTUnwrap(p.mapped(prompt), "the prompt is covered by the kept vocabulary")
        XCTAssertEqual(p.tokenizer.encode(prompt), newIDs)
        let ia = try Interpreter(module: p.original.module, store: p.original.store)
        let ib = try Interpreter(module: p.module, store: p.original.store)
        let hidden = try XCTUnwrap(p.module.function.ops.last?.valueOperands.first, "the head's input")
        var ca = ia.makeCache(), cb = ib.makeCache()
        let a = try ia.run(ids, capture: [hidden], cache: &ca), b = try ib.run(newIDs, capture: [hidden], cache: &cb)
        XCTAssertEqual(b.logits.shape, [ids.count, p.idMap.count])

        // Everything before the head is the same computation: the hidden states are bit-identical, and so are the
        // head's rows (the pruned table is the original's rows at the mapped ids).
        XCTAssertEqual(a.captured[hidden]?.data, b.captured[hidden]?.data, "embedding rows at new ids are the original rows")
        let wa = try p.original.store.tensor(for: try XCTUnwrap(p.original.module.parameter("token_embd.weight")))
        let wb = try p.original.store.tensor(for: try XCTUnwrap(p.module.parameter("token_embd.weight")))
        let h = wa.cols
        XCTAssertTrue(p.idMap.enumerated().allSatisfy { j, o in wb.data[(j * h)..<((j + 1) * h)] == wa.data[(o * h)..<((o + 1) * h)] })

        // The logits: OpenBLAS may sum a dot product in a different order when the number of output rows of the head
        // changes (49152 vs the pruned count: other kernels for the edges, another split between threads), so they
        // agree to float rounding, not bit for bit.
        func worst(_ x: Tensor, _ y: Tensor) -> Float {
            var w: Float = 0
            for r in 0..<x.rows {
                let rx = x.row(r), ry = y.row(r)
                for (j, o) in p.idMap.enumerated() { w = max(w, abs(ry[ry.startIndex + j] - rx[rx.startIndex + o])) }
            }
            return w
        }
        let prefill = worst(a.logits, b.logits)
        XCTAssertLessThanOrEqual(prefill, 1e-4, "prefill logits agree to float rounding (max |diff| \(prefill))")
        for r in 0..<ids.count {
            let rx = a.logits.row(r), ry = b.logits.row(r)
            let best = p.idMap.indices.max { ry[ry.startIndex + $0] < ry[ry.startIndex + $1] }!
            XCTAssertEqual(p.idMap[best], p.idMap.max { rx[rx.startIndex + $0] < rx[rx.startIndex + $1] }, "row \(r): same best kept token")
        }
    }

    func testGreedyGenerationFromAPrunedPIRFollowsTheOriginal() throws {
        let p = try VocabPruneFixture.pruned(Paths.smolGGUF)
        let dir = try TempDir()
        let pir = try dir.write("pruned.pir", Data(printModule(p.module).utf8))

        // Loading the .pir re-derives the same pruned BPE model and tokenizer.
        let loaded = try loadPIR(pir)
        XCTAssertEqual(loaded.module, p.module.canonicalized())
        XCTAssertEqual(loaded.module.vocabulary.bpe, p.module.vocabulary.bpe)
        XCTAssertEqual(try loadTokenizer(pir).encode("return x"), p.tokenizer.encode("return x"))

        let prompt = "import os\n\n\ndef list_files(directory):\n    \"\"\"Return the names of the files in directory.\"\"\"\n"
        let tok = try PareCLI.run(["tokenize", pir, "--text", prompt, "--json"])
        XCTAssertEqual(tok.status, 0, tok.summary)
        struct Tokens: Decodable { var ids: [Int]; var decoded: String }
        let t = try JSONDecoder().decode(Tokens.self, from: tok.stdout)
        XCTAssertEqual(t.ids, try XCTUnwrap(p.mapped(prompt)))
        XCTAssertEqual(t.decoded, prompt)

        struct Generated: Decodable { var ids: [Int]; var text: String }
        let runA = try PareCLI.run(["generate", Paths.smolGGUF, "--prompt", prompt, "--max-tokens", "24", "--json"])
        let runB = try PareCLI.run(["generate", pir, "--prompt", prompt, "--max-tokens", "24", "--json"])
        XCTAssertEqual(runA.status, 0, runA.summary)
        XCTAssertEqual(runB.status, 0, runB.summary)
        let a = try JSONDecoder().decode(Generated.self, from: runA.stdout).ids
        let b = try JSONDecoder().decode(Generated.self, from: runB.stdout).ids
        // Up to the original's first token outside the kept vocabulary, the pruned model picks the same tokens.
        let agree = a.prefix { p.newID[$0] != nil }.count
        XCTAssertGreaterThanOrEqual(agree, 12, "the original's continuation stays in the kept vocabulary for a while: \(a)")
        XCTAssertEqual(Array(b.prefix(agree)), a.prefix(agree).map { p.newID[$0]! })
        if agree == a.count { XCTAssertEqual(b.count, a.count) }
    }

    func testGenerationStopsAtTheRemappedEOS() throws {
        // Qwen: eos (<|im_end|>, 151645) moves to a much smaller id (SmolLM2's eos, 2, keeps its id). A Python corpus
        // lacks the chat template's words ("assistant"), so this corpus adds one chat exchange to a code excerpt.
        let chat = "<|im_start|>user\nWhat is 2+2? Answer with one number.<|im_end|>\n<|im_start|>assistant\n"
        let dir = try TempDir()
        let corpus = try dir.write("chat.txt", Data((try VocabPruneFixture.corpusExcerpt(bytes: 40_000) + chat + "4<|im_end|>\n").utf8))
        let p = try VocabPruneFixture.pruned(Paths.qwenGGUF, corpus: corpus)
        let oldEOS = try XCTUnwrap(p.original.module.vocabulary.special("eos"))
        let newEOS = try XCTUnwrap(p.module.vocabulary.special("eos"))
        XCTAssertEqual(p.newID[oldEOS], newEOS)
        XCTAssertLessThan(newEOS, oldEOS)
        let ids = try XCTUnwrap(p.mapped(chat), "the chat prompt is covered")
        let a = try Interpreter(module: p.original.module, store: p.original.store)
            .generateGreedy(prompt: p.original.tokenizer.encode(chat), maxTokens: 16, stop: [oldEOS])
        let b = try Interpreter(module: p.module, store: p.original.store).generateGreedy(prompt: ids, maxTokens: 16, stop: [newEOS])
        XCTAssertEqual(a.last, oldEOS, "the original answers and stops: \(p.original.tokenizer.decode(a))")
        XCTAssertEqual(b.last, newEOS, "the pruned module stops at the remapped eos: \(p.tokenizer.decode(b))")
        XCTAssertEqual(b, a.compactMap { p.newID[$0] })
        XCTAssertEqual(b.count, a.count)
    }

    func testPareOptRunsItInAPipelineWithTheKLCheck() throws {
        let dir = try TempDir()
        let corpus = try dir.write("corpus.txt", Data(try VocabPruneFixture.corpusExcerpt(bytes: 40_000).utf8))
        let out = dir.file("opt.pir")
        let run = try PareCLI.run(["opt", try Paths.require(Paths.smolGGUF), "--passes", "vocab-prune{corpus=\(corpus), min-count=2}",
                                   "-o", out, "--json", "--calibration-samples", "2", "--calibration-length", "32",
                                   "--held-out-samples", "3", "--held-out-bytes", "512"])
        XCTAssertEqual(run.status, 0, run.summary)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any], run.out)
        let pass = try XCTUnwrap((json["passes"] as? [[String: Any]])?.first)
        XCTAssertEqual(pass["pass"] as? String, "vocab-prune")
        XCTAssertEqual(pass["changed"] as? Bool, true)
        let stats = try XCTUnwrap(pass["statistics"] as? [String: Any])
        XCTAssertEqual(stats["vocabulary before"] as? String, "49152")
        // A tokenizer change is checked on held-out text (not the calibration windows, where a re-tokenized window
        // reads the same tokens and the KL was 0): 40 KB of Python misreads the held-out Go, Rust, JS and prose.
        let held = try XCTUnwrap(pass["held_out"] as? [String: Any], "\(pass)")
        let before = try XCTUnwrap(held["nats_per_byte_before"] as? Double), after = try XCTUnwrap(held["nats_per_byte_after"] as? Double)
        XCTAssertGreaterThan(after, before * 1.05, "a small Python corpus costs loss per byte on held-out mixed text")
        XCTAssertGreaterThan(try XCTUnwrap(held["tokens_after"] as? Int), try XCTUnwrap(held["tokens_before"] as? Int))
        let kl = try XCTUnwrap(pass["kl"] as? [String: Any])
        XCTAssertEqual(kl["positions"] as? Int, held["aligned_positions"] as? Int)
        XCTAssertTrue((json["held_out"] as? String)?.hasPrefix("data/heldout/mixed.txt (sha256 ") == true, "\(json)")
        XCTAssertTrue(run.err.contains("held-out loss "), run.err)

        let m = try loadPIR(out).module
        XCTAssertEqual(m[meta: "decision.1.pass"], .string("vocab-prune"))
        XCTAssertEqual(m[meta: "decision.1.min_count"], .int(2))
        XCTAssertEqual(m[meta: "decision.1.kept"], .string(try XCTUnwrap(m.vocabulary.idMap).description))
        XCTAssertEqual(stats["vocabulary after"] as? String, String(m.vocabulary.size))
    }

    // MARK: Composition and reloading

    func testSecondPruneComposesTheIDMapInSourceIDs() throws {
        let original = try VocabPruneFixture.original(Paths.smolGGUF)
        let dir = try TempDir()
        let big = try dir.write("big.txt", Data(try VocabPruneFixture.corpusExcerpt(bytes: 40_000).utf8))
        let small = try dir.write("small.txt", Data(try VocabPruneFixture.corpusExcerpt(bytes: 8_000).utf8))
        let ctx = PassContext()
        ctx.recordPrefix = "decision.1"
        let first = try runPass(VocabPrune(corpus: big), on: original.module, context: ctx).module
        ctx.recordPrefix = "decision.2"
        let second = try runPass(VocabPrune(corpus: small), on: first, context: ctx).module
        let direct = try runPass(VocabPrune(corpus: small), on: original.module).module

        let map1 = Array(try XCTUnwrap(first.vocabulary.idMap)), map2 = Array(try XCTUnwrap(second.vocabulary.idMap))
        XCTAssertLessThan(map2.count, map1.count)
        XCTAssertTrue(Set(map2).isSubset(of: Set(map1)))
        XCTAssertTrue(IndexList(map2).isStrictlyIncreasing)
        // The second map is in ORIGINAL ids: pruned token j is original token map2[j].
        let source = try XCTUnwrap(original.module.vocabulary.bpe)
        XCTAssertEqual(second.vocabulary.bpe?.tokens, map2.map { source.tokens[$0] })
        // The small corpus is covered by the first pruning, so pruning twice equals pruning once with it.
        XCTAssertEqual(map2, direct.vocabulary.idMap.map(Array.init))
        XCTAssertEqual(second.vocabulary.bpe, direct.vocabulary.bpe)
        XCTAssertEqual(second.vocabulary.specials, direct.vocabulary.specials)
        XCTAssertEqual(second.parameter("token_embd.weight")?.views, [.rows(IndexList(map2))], "rows compose in source terms")
        XCTAssertEqual(second[meta: "decision.1.kept"], .string(IndexList(map1).description))
        XCTAssertEqual(second[meta: "decision.2.kept"], .string(IndexList(map2).description))
        XCTAssertEqual(first.vocabulary.sourceSize, 49152)
        XCTAssertEqual(second.vocabulary.sourceSize, 49152, "the source size is the checkpoint's, not the first pruning's")

        let report = checkTokenizerEquivalence(original: original.tokenizer, pruned: try BPETokenizer(model: try XCTUnwrap(second.vocabulary.bpe)),
                                               idMap: map2, texts: try VocabPruneFixture.heldOut())
        XCTAssertTrue(report.passed, report.description)

        // And it reloads from text: the twice-pruned tokenizer is re-derived from the source and the final map.
        let loaded = try loadPIR(try dir.write("twice.pir", Data(printModule(second).utf8)))
        XCTAssertEqual(loaded.module.vocabulary.bpe, second.vocabulary.bpe)
        XCTAssertEqual(loaded.module.vocabulary, second.vocabulary)
    }

    func testLoadPIRRejectsAnInconsistentIDMap() throws {
        let p = try VocabPruneFixture.pruned(Paths.smolGGUF)
        let dir = try TempDir()
        let source = try XCTUnwrap(p.original.module.vocabulary.bpe)
        // Replace a kept merge-chain token by a dropped token nearby (same size, still increasing): not closed.
        let usage = TokenUsage.measure(try VocabPruneFixture.corpusTexts()[0], tokenizer: p.original.tokenizer, vocabularySize: source.tokens.count)
        let i = try XCTUnwrap((1..<(p.idMap.count - 1)).first { i in
            usage.counts[p.idMap[i]] == 0 && p.idMap[i] + 1 < p.idMap[i + 1] && source.tokens[p.idMap[i]].count > 1
        })
        var m = p.module
        var map = p.idMap
        map[i] += 1
        m.vocabulary.idMap = IndexList(map)
        XCTAssertEqual(verify(m).filter { $0.severity == .error }, [], "the verifier cannot see this; loading can")
        XCTAssertThrowsError(try loadPIR(try dir.write("bad.pir", Data(printModule(m).utf8)))) {
            XCTAssertTrue($0.localizedDescription.contains("bad.pir"), $0.localizedDescription)
            XCTAssertTrue($0.localizedDescription.contains("id_map"), $0.localizedDescription)
        }
        // A merge count that does not match the id map.
        var n = p.module
        n.vocabulary.mergeCount += 1
        XCTAssertThrowsError(try loadPIR(try dir.write("merges.pir", Data(printModule(n).utf8)))) {
            XCTAssertTrue($0.localizedDescription.contains("merges"), $0.localizedDescription)
        }
        // A source size that is not the checkpoint's vocabulary size.
        var s = p.module
        s.vocabulary.sourceSize = 50000
        XCTAssertThrowsError(try loadPIR(try dir.write("size.pir", Data(printModule(s).utf8)))) {
            XCTAssertTrue($0.localizedDescription.contains("source_size = 50000"), $0.localizedDescription)
            XCTAssertTrue($0.localizedDescription.contains("49152 token ids"), $0.localizedDescription)
        }
    }
}
