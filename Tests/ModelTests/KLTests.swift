// The KL checker: closed-form and direct double-precision references on synthetic logits, identical modules
// (exactly 0), a known perturbation of SmolLM2's LM head, a pruned vocabulary (P renormalised, removed mass
// reported), a refused comparison; and the calibration set (windows, determinism, errors, shipped corpora).
import Foundation
import PareFrontend
import PareIR
import PareInterpreter
import ParePasses
import XCTest

/// KL(P ‖ Q) and friends computed directly in Double, independently of `KLAccumulator`.
enum DirectKL {
    static func logSoftmax(_ x: [Double]) -> [Double] {
        let m = x.max() ?? 0
        let lse = m + Foundation.log(x.reduce(0) { $0 + Foundation.exp($1 - m) })
        return x.map { $0 - lse }
    }

    /// One position: P over `p` renormalised onto `keep` (after-id -> before-id), Q over `q`.
    static func position(p: [Float], q: [Float], keep: [Int]?) -> (kl: Double, removed: Double, agree: Bool) {
        let keep = keep ?? Array(0..<p.count)
        let lpAll = logSoftmax(p.map(Double.init))
        let kept = keep.map { lpAll[$0] }
        let keptMass = kept.reduce(0) { $0 + Foundation.exp($1) }
        let lp = kept.map { $0 - Foundation.log(keptMass) }
        let lq = logSoftmax(q.map(Double.init))
        var kl = 0.0
        for j in 0..<lq.count { kl += Foundation.exp(lp[j]) * (lp[j] - lq[j]) }
        let argP = lp.indices.max { lp[$0] < lp[$1] || (lp[$0] == lp[$1] && $0 > $1) }!
        let argQ = lq.indices.max { lq[$0] < lq[$1] || (lq[$0] == lq[$1] && $0 > $1) }!
        return (kl, 1 - keptMass, argP == argQ)
    }
}

/// A deterministic generator for synthetic logits.
struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    mutating func unit() -> Float { Float(Double(next() >> 11) / Double(1 << 53) * 2 - 1) }
}

final class KLTests: XCTestCase {
    // MARK: Synthetic logits

    func testTwoTokenDistributionsHaveTheClosedFormKL() {
        // P = softmax(0, log 3) = (1/4, 3/4) and Q = (1/2, 1/2): KL = 1/4 ln(1/2) + 3/4 ln(3/2).
        let l3 = Float(Foundation.log(3.0))
        let p1 = Foundation.exp(Double(l3)) / (1 + Foundation.exp(Double(l3)))  // 3/4 up to the Float rounding of log 3
        let expected = (1 - p1) * Foundation.log((1 - p1) / 0.5) + p1 * Foundation.log(p1 / 0.5)
        XCTAssertEqual(expected, 0.25 * Foundation.log(0.5) + 0.75 * Foundation.log(1.5), accuracy: 1e-7)

        var acc = KLAccumulator(keep: nil)
        acc.add(before: [0, l3][...], after: [0, 0][...])   // argmax P = 1, Q ties -> 0: disagree
        acc.add(before: [l3, 0][...], after: [5, 5][...])   // same KL (Q is uniform whatever its shift); agree
        acc.add(before: [1, 2][...], after: [1, 2][...])    // identical: 0; agree
        let s = acc.statistics()
        XCTAssertEqual(s.positions, 3)
        XCTAssertEqual(s.mean, 2 * expected / 3, accuracy: 1e-12)
        XCTAssertEqual(s.median, expected, accuracy: 1e-12)
        XCTAssertEqual(s.max, expected, accuracy: 1e-12)
        XCTAssertEqual(s.p99, expected, accuracy: 1e-12)
        XCTAssertEqual(s.top1Agreement, 2.0 / 3.0, accuracy: 1e-15)
        XCTAssertEqual(s.removedMassMax, 0)
    }

    func testVocabularyShrinkRenormalisesPAndReportsRemovedMass() {
        // 4 before-tokens, the after-vocabulary keeps 0, 2, 3. P = softmax(ln 1, ln 4, ln 2, ln 3) = (.1, .4, .2, .3):
        // removed mass 0.4; P renormalised over the kept = (1/6, 2/6, 3/6); Q = softmax(0, 0, 0) = 1/3 each.
        let p: [Float] = [0, Float(Foundation.log(4.0)), Float(Foundation.log(2.0)), Float(Foundation.log(3.0))]
        let q: [Float] = [0, 0, 0]
        var acc = KLAccumulator(keep: [0, 2, 3])
        acc.add(before: p[...], after: q[...])
        let s = acc.statistics()
        let pr = [1.0 / 6, 2.0 / 6, 3.0 / 6]
        let expected = pr.reduce(0) { $0 + $1 * Foundation.log($1 * 3) }
        XCTAssertEqual(s.mean, expected, accuracy: 1e-6)
        XCTAssertEqual(s.removedMassMean, 0.4, accuracy: 1e-6)
        XCTAssertEqual(s.removedMassMax, 0.4, accuracy: 1e-6)
        XCTAssertEqual(s.top1Agreement, 0)  // P's best kept token is id 3 (after-id 2); Q ties at after-id 0
        let direct = DirectKL.position(p: p, q: q, keep: [0, 2, 3])
        XCTAssertEqual(s.mean, direct.kl, accuracy: 1e-12)
        XCTAssertEqual(s.removedMassMean, direct.removed, accuracy: 1e-12)
    }

    func testAccumulatorMatchesADirectComputationOnRandomLogits() {
        var rng = SplitMix(state: 42)
        let vocab = 1000
        let keep = Array(stride(from: 0, to: vocab, by: 3))
        var acc = KLAccumulator(keep: keep)
        var kls: [Double] = [], removed: [Double] = [], agree = 0
        for _ in 0..<64 {
            let p = (0..<vocab).map { _ in rng.unit() * 6 }
            let q = keep.map { p[$0] + rng.unit() * 0.5 }
            acc.add(before: p[...], after: q[...])
            let d = DirectKL.position(p: p, q: q, keep: keep)
            kls.append(d.kl)
            removed.append(d.removed)
            if d.agree { agree += 1 }
        }
        let s = acc.statistics()
        let sorted = kls.sorted()
        XCTAssertEqual(s.positions, 64)
        XCTAssertEqual(s.mean, kls.reduce(0, +) / 64, accuracy: 1e-9)
        XCTAssertEqual(s.median, sorted[32], accuracy: 1e-9)  // index round(63 x 0.5) = 32
        XCTAssertEqual(s.p99, sorted[62], accuracy: 1e-9)     // index round(63 x 0.99) = 62
        XCTAssertEqual(s.max, sorted[63], accuracy: 1e-9)
        XCTAssertEqual(s.removedMassMean, removed.reduce(0, +) / 64, accuracy: 1e-9)
        XCTAssertEqual(s.removedMassMax, removed.max()!, accuracy: 1e-9)
        XCTAssertEqual(s.top1Agreement, Double(agree) / 64)
        XCTAssertGreaterThan(s.mean, 0.01)
    }

    // MARK: SmolLM2

    func smolCalibration(_ model: LoadedModel) throws -> Calibration {
        try loadCalibration(path: nil, tokenizer: model.tokenizer, samples: 2, length: 24)
    }

    /// Logits of `m` on each calibration sequence (mapped into its vocabulary).
    func logits(_ m: Module, _ store: WeightStore, _ cal: Calibration) throws -> [Tensor] {
        let interp = try Interpreter(module: m, store: store)
        return try cal.sequences(for: m).map { try interp.forward($0) }
    }

    func compare(_ a: Module, _ b: Module, _ store: WeightStore, _ cal: Calibration) throws -> KLStatistics {
        let ia = try Interpreter(module: a, store: store), ib = try Interpreter(module: b, store: store)
        return try compareOnCalibration(try cal.comparison(before: a, after: b), before: a, after: b,
                                        beforeLogits: { _, ids in try ia.forward(ids) }, afterLogits: { _, ids in try ib.forward(ids) })
    }

    func testIdenticalModulesGiveExactlyZero() throws {
        let smol = try RealModels.smol()
        let cal = try smolCalibration(smol)
        let s = try compare(smol.module, smol.module, smol.store, cal)
        XCTAssertEqual(s.positions, 48)
        XCTAssertEqual(s.mean, 0)
        XCTAssertEqual(s.max, 0)
        XCTAssertEqual(s.top1Agreement, 1.0)
        XCTAssertEqual(s.removedMassMax, 0)
        let viaContext = try PassContext(store: smol.store, calibration: cal).kl(before: smol.module, after: smol.module)
        XCTAssertEqual(viaContext, s)
    }

    func testSwappedLMHeadRowsGiveTheClosedFormKL() throws {
        // Q's logits are P's with tokens a and b swapped, so per position KL = (p_a - p_b)(ln p_a - ln p_b).
        let smol = try RealModels.smol()
        let m = smol.module
        let cal = try smolCalibration(smol)
        let p = try logits(m, smol.store, cal)
        let first = Array(p[0].row(0))
        let order = first.indices.sorted { first[$0] > first[$1] }
        let a = order[0], b = order[1]

        var r = Rewriter(m)
        let headOp = try XCTUnwrap(r.definingOp(of: m.function.result))
        let table = try XCTUnwrap(headOp.operands[1].param.flatMap { m.parameter($0) })
        var perm = Array(0..<m.vocabulary.size)
        perm.swapAt(a, b)
        r.setParameter(Parameter(name: "output.swapped", shape: table.shape, dtype: table.dtype, source: table.source,
                                 views: table.views + [.rows(IndexList(perm))]))
        try r.updateOp(m.function.result) { $0.operands[1] = .param("output.swapped") }
        let swapped = r.module
        XCTAssertEqual(verify(swapped).filter { $0.severity == .error }, [])

        let q = try logits(swapped, smol.store, cal)
        var closed: [Double] = [], direct: [Double] = [], agree = 0
        for (pt, qt) in zip(p, q) {
            for row in 0..<pt.rows {
                let pr = Array(pt.row(row)), qr = Array(qt.row(row))
                XCTAssertEqual(Double(qr[a]), Double(pr[b]), accuracy: 1e-3)
                XCTAssertEqual(Double(qr[b]), Double(pr[a]), accuracy: 1e-3)
                let lp = DirectKL.logSoftmax(pr.map(Double.init))
                closed.append((Foundation.exp(lp[a]) - Foundation.exp(lp[b])) * (lp[a] - lp[b]))
                let d = DirectKL.position(p: pr, q: qr, keep: nil)
                direct.append(d.kl)
                let best = lp.indices.max { lp[$0] < lp[$1] }!
                if best != a && best != b { agree += 1 }
            }
        }
        let s = try compare(m, swapped, smol.store, cal)
        let closedMean = closed.reduce(0, +) / Double(closed.count)
        XCTAssertEqual(s.positions, 48)
        XCTAssertGreaterThan(closedMean, 1e-3, "the swap should matter at position 0")
        XCTAssertEqual(s.mean, direct.reduce(0, +) / Double(direct.count), accuracy: 1e-9 + 1e-9 * s.mean)
        XCTAssertEqual(s.mean, closedMean, accuracy: 1e-4 * closedMean + 1e-6)
        XCTAssertEqual(s.max, closed.max()!, accuracy: 1e-4 * closed.max()! + 1e-6)
        XCTAssertEqual(s.top1Agreement, Double(agree) / 48)
        XCTAssertLessThan(s.top1Agreement, 1)
    }

    /// SmolLM2 with a pruned vocabulary: every id in `removed` goes from the (tied) table, the logits and the id map.
    func prunedVocabulary(_ m: Module, removing removed: Set<Int>) throws -> Module {
        let kept = (0..<m.vocabulary.size).filter { !removed.contains($0) }
        var newID: [Int: Int] = [:]
        for (n, o) in kept.enumerated() { newID[o] = n }
        var r = Rewriter(m)
        let tableName = try XCTUnwrap(m.function.ops.first { $0.kind == .embed }?.operands[0].param)
        let table = try XCTUnwrap(m.parameter(tableName))
        r.setParameter(Parameter(name: table.name, shape: [kept.count] + table.shape.dropFirst(), dtype: table.dtype,
                                 source: table.source, views: table.views + [.rows(IndexList(kept))]))
        try r.updateOp(m.function.result) { $0.type = TensorType([.seq, .fixed(kept.count)], .f32) }
        var v = m.vocabulary
        v.size = kept.count
        v.idMap = IndexList(kept)
        v.sourceSize = m.vocabulary.size
        v.specials = try v.specials.map { s in
            var s = s
            s.id = try XCTUnwrap(newID[s.id], "special \(s.role) was removed")
            return s
        }
        r.setVocabulary(v)
        return r.module
    }

    func testPrunedVocabularyRenormalisesPAndReportsTheRemovedMass() throws {
        let smol = try RealModels.smol()
        let m = smol.module
        XCTAssertEqual(m[meta: "tied_embeddings"], .bool(true))
        let cal = try smolCalibration(smol)
        let used = Set(cal.sequences.joined())
        let specials = Set(m.vocabulary.specials.map(\.id))
        let p = try logits(m, smol.store, cal)
        // Remove each position's most likely token (when the text does not use it) and every 5th id above 1000.
        var removed = Set(stride(from: 1000, to: m.vocabulary.size, by: 5))
        for t in p { for row in 0..<t.rows { let r = Array(t.row(row)); removed.insert(r.indices.max { r[$0] < r[$1] }!) } }
        removed.subtract(used)
        removed.subtract(specials)
        let pruned = try prunedVocabulary(m, removing: removed)
        XCTAssertEqual(verify(pruned).filter { $0.severity == .error }, [])
        XCTAssertEqual(pruned.vocabulary.size, m.vocabulary.size - removed.count)

        var expectedRemoved: [Double] = []
        for t in p {
            for row in 0..<t.rows {
                let lp = DirectKL.logSoftmax(t.row(row).map(Double.init))
                expectedRemoved.append(removed.reduce(0) { $0 + Foundation.exp(lp[$1]) })
            }
        }
        let s = try compare(m, pruned, smol.store, cal)
        XCTAssertEqual(s.positions, 48)
        // The kept logits are the same numbers, so renormalised P equals Q: KL ~ 0 and top-1 agrees.
        XCTAssertLessThan(s.max, 1e-5)
        XCTAssertEqual(s.top1Agreement, 1)
        XCTAssertEqual(s.removedMassMean, expectedRemoved.reduce(0, +) / 48, accuracy: 1e-6)
        XCTAssertEqual(s.removedMassMax, expectedRemoved.max()!, accuracy: 1e-6)
        XCTAssertGreaterThan(s.removedMassMax, 0.05, "removing each position's top token should remove visible mass")
        XCTAssertTrue(s.summary.contains("removed-token mass"), s.summary)
    }

    func testTheCheckerRefusesAnAfterModuleWithTokensTheBeforeModuleLacks() throws {
        // Known-bad input: comparing the wrong way round (after has tokens before lacks) must throw, not return numbers.
        let smol = try RealModels.smol()
        let cal = try smolCalibration(smol)
        let pruned = try prunedVocabulary(smol.module, removing: Set(stride(from: 1000, to: 2000, by: 2)))
        XCTAssertThrowsError(try compare(pruned, smol.module, smol.store, cal)) { error in
            XCTAssertTrue(error.localizedDescription.contains("which the first lacks"), error.localizedDescription)
        }
    }

    // MARK: Calibration

    func testCalibrationWindowsAreDeterministicDisjointAndStartAtLines() throws {
        let smol = try RealModels.smol()
        let a = try loadCalibration(path: nil, tokenizer: smol.tokenizer, samples: 6, length: 64)
        let b = try loadCalibration(path: nil, tokenizer: smol.tokenizer, samples: 6, length: 64)
        XCTAssertEqual(a.sequences, b.sequences)
        XCTAssertEqual(a.sequences.count, 6)
        XCTAssertTrue(a.sequences.allSatisfy { $0.count == 64 })
        XCTAssertTrue(a.origin.hasPrefix("data/calibration/code.txt (sha256 "), a.origin)
        XCTAssertTrue(a.origin.contains("6 x 64 of its "), a.origin)

        let text = try String(contentsOfFile: try PareData.path(defaultCalibrationFile), encoding: .utf8)
        var end = text.startIndex
        var atLineStart = 0
        for seq in a.sequences {
            let piece = smol.tokenizer.decode(seq)
            let found = try XCTUnwrap(text.range(of: piece, range: end..<text.endIndex), "window not found in order: \(piece.prefix(60))")
            if found.lowerBound == text.startIndex || text[text.index(before: found.lowerBound)] == "\n" { atLineStart += 1 }
            end = found.upperBound
        }
        XCTAssertGreaterThanOrEqual(atLineStart, 5, "windows should start at line starts")
        // Evenly spread: the last window ends near the end of the file.
        XCTAssertGreaterThan(text.distance(from: text.startIndex, to: end), text.count * 9 / 10)
    }

    func testCalibrationErrors() throws {
        let tok = try RealModels.smol().tokenizer
        let dir = try TempDir(prefix: "pare-cal")
        let short = try dir.write("short.py", text: "def f(x):\n    return x + 1\n")
        let n = tok.encode("def f(x):\n    return x + 1\n").count
        XCTAssertThrowsError(try loadCalibration(path: short, tokenizer: tok, samples: 2, length: 8)) { e in
            XCTAssertEqual(e as? CalibrationError, .tooShort(path: short, tokens: n, samples: 2, length: 8))
            XCTAssertTrue(e.localizedDescription.contains("has \(n) tokens; 2 samples of 8 tokens need 16"), e.localizedDescription)
        }
        XCTAssertEqual(try loadCalibration(path: short, tokenizer: tok, samples: 1, length: 8).sequences.count, 1)
        let cases: [(Int, Int, CalibrationError)] = [(0, 64, .badSamples(0)), (257, 64, .badSamples(257)),
                                                     (4, 7, .badLength(7)), (4, 2049, .badLength(2049))]
        for (s, l, expected) in cases {
            XCTAssertThrowsError(try loadCalibration(path: nil, tokenizer: tok, samples: s, length: l)) { e in
                XCTAssertEqual(e as? CalibrationError, expected)
            }
        }
        XCTAssertThrowsError(try loadCalibration(path: dir.file("missing.txt"), tokenizer: tok, samples: 1, length: 8)) { e in
            XCTAssertEqual(e as? CalibrationError, .unreadable(path: dir.file("missing.txt"), reason: "no such file"))
        }
        let binary = try dir.write("binary.bin", Data([0xff, 0xfe, 0x00, 0xc3]))
        XCTAssertThrowsError(try loadCalibration(path: binary, tokenizer: tok, samples: 1, length: 8)) { e in
            XCTAssertEqual(e as? CalibrationError, .unreadable(path: binary, reason: "not UTF-8 text"))
        }
    }

    func testShippedCorporaAreDisjointAndSmall() throws {
        let corpus = try PareData.path(defaultCorpusFile), calibration = try PareData.path(defaultCalibrationFile)
        var modules: [Set<String>] = []
        for path in [corpus, calibration] {
            let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
            XCTAssertLessThan(size, 1_000_000, path)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            modules.append(Set(text.split(separator: "\n").filter { $0.hasPrefix("# ===== Lib/") }.map { String($0.split(separator: " ")[2]) }))
        }
        XCTAssertGreaterThan(modules[0].count, 10)
        XCTAssertGreaterThan(modules[1].count, 3)
        XCTAssertEqual(modules[0].intersection(modules[1]), [], "the calibration text must be held out from the vocabulary corpus")
    }

    // MARK: Held-out text

    func testHeldOutPiecesAreDeterministicDisjointAndStartAtLines() throws {
        let a = try loadHeldOut(path: nil, samples: 6, bytes: 700), b = try loadHeldOut(path: nil, samples: 6, bytes: 700)
        XCTAssertEqual(a.texts, b.texts)
        XCTAssertEqual(a.texts.count, 6)
        XCTAssertTrue(a.origin.hasPrefix("data/heldout/mixed.txt (sha256 "), a.origin)
        let text = try String(contentsOfFile: try PareData.path(defaultHeldOutFile), encoding: .utf8)
        var end = text.startIndex
        for piece in a.texts {
            XCTAssertGreaterThanOrEqual(piece.utf8.count, 700)
            XCTAssertTrue(piece.hasSuffix("\n"), "a piece ends at a line end")
            let found = try XCTUnwrap(text.range(of: piece, range: end..<text.endIndex), "piece not found in order")
            XCTAssertTrue(found.lowerBound == text.startIndex || text[text.index(before: found.lowerBound)] == "\n")
            end = found.upperBound
        }
        XCTAssertEqual(textPieces("a\nb\n", samples: 2, bytes: 2), ["a\n", "b\n"])
        XCTAssertNil(textPieces("a\nb\n", samples: 3, bytes: 2))
    }

    func testHeldOutErrors() throws {
        let dir = try TempDir(prefix: "pare-heldout")
        let short = try dir.write("short.txt", text: "x = 1\n")
        XCTAssertThrowsError(try loadHeldOut(path: short, samples: 2, bytes: 64)) { e in
            XCTAssertEqual(e as? CalibrationError, .heldOutTooShort(path: short, bytes: 6, samples: 2, pieceBytes: 64))
            XCTAssertTrue(e.localizedDescription.contains("--held-out-samples"), e.localizedDescription)
        }
        XCTAssertThrowsError(try loadHeldOut(path: nil, samples: 0, bytes: 64)) { XCTAssertEqual($0 as? CalibrationError, .badHeldOut(samples: 0, bytes: 64)) }
        XCTAssertThrowsError(try loadHeldOut(path: dir.file("missing.txt"), samples: 1, bytes: 64)) { e in
            XCTAssertEqual(e as? CalibrationError, .unreadable(path: dir.file("missing.txt"), reason: "no such file"))
        }
    }

    func testShippedMixedCorpusAndHeldOutTextAreDisjointSmallAndMultilingual() throws {
        let mixed = try PareData.path("corpus/mixed.txt"), held = try PareData.path(defaultHeldOutFile)
        var files: [Set<String>] = [], languages: [Set<String>] = []
        for path in [mixed, held] {
            let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
            XCTAssertLessThan(size, 4_000_000, path)
            let headers = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
                .filter { $0.contains(" ===== ") && $0.hasSuffix("=====") }
            files.append(Set(headers.map { String($0.components(separatedBy: " ===== ")[1].components(separatedBy: " (")[0]) }))
            languages.append(Set(headers.map { String($0.components(separatedBy: " (").last!.split(separator: ",")[0]) }))
        }
        XCTAssertEqual(files[0].intersection(files[1]), [], "the held-out text shares no file with the mixed corpus")
        for l in ["Python", "C", "C++", "Go", "Rust", "JavaScript", "TypeScript", "Shell", "Markdown"] {
            XCTAssertTrue(languages[0].contains(l), "mixed corpus lacks \(l)")
        }
        XCTAssertGreaterThanOrEqual(languages[1].count, 7)
    }
}
