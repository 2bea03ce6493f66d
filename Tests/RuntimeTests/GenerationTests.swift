// Generation and sampling: greedy determinism and parity, seeded sampling, top-p, the PRNG's published vectors.
import ParePlan
import PareRuntime
import XCTest

final class RuntimeGenerationTests: XCTestCase {
    let model = ToyModel()
    let prompt = ToyModel.tokens(6, seed: 4)

    private func run(_ sampling: SamplingMode, maxTokens: Int = 12, stop: Set<Int> = [], maxContext: Int? = nil) throws -> [Int] {
        let session = try makeRuntime(ToyPlans.fused(model)).makeSession(maxContext: maxContext)
        var streamed: [Int] = []
        let out = try generate(session, prompt: prompt, maxTokens: maxTokens, sampling: sampling, stop: stop) { streamed.append($0) }
        XCTAssertEqual(streamed, out, "onToken must see every id, in order")
        return out
    }

    func testGreedyIsDeterministicAndMatchesTheReference() throws {
        let a = try run(.greedy), b = try run(.greedy)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.count, 12)
        // The reference: argmax (lowest id on ties) of the naive forward over the growing sequence.
        var seq = prompt, expected: [Int] = []
        for _ in 0..<12 {
            let logits = model.referenceLogits(seq).suffix(50)
            let best = logits.indices.max { logits[$0] < logits[$1] || (logits[$0] == logits[$1] && $0 > $1) }!
            expected.append(best - logits.startIndex)
            seq.append(expected.last!)
        }
        XCTAssertEqual(a, expected)
    }

    func testStopTokenAndFullContextEndGeneration() throws {
        let greedy = try run(.greedy)
        let stopped = try run(.greedy, stop: [greedy[2]])
        XCTAssertEqual(stopped, Array(greedy[...(greedy.firstIndex(of: greedy[2])!)]))
        // Context 6 + 4: four tokens are decoded, a fifth is sampled from the last logits but not run.
        let session = try makeRuntime(ToyPlans.fused(model)).makeSession(maxContext: 10)
        let out = try generate(session, prompt: prompt, maxTokens: 50, sampling: .greedy, stop: []) { _ in }
        XCTAssertEqual(out, Array(greedy[..<5]))
        XCTAssertEqual(session.length, 10)
        XCTAssertEqual(try run(.greedy, maxTokens: 0), [])
    }

    func testSeededSamplingIsReproducibleAndSeedsDiffer() throws {
        for topP in [1.0, 0.9] {
            let a = try run(.temperature(1.0, topP: topP, seed: 42)), b = try run(.temperature(1.0, topP: topP, seed: 42))
            XCTAssertEqual(a, b, "same seed, top-p \(topP)")
            let runs = try (1...5).map { try run(.temperature(1.0, topP: topP, seed: UInt64($0))) }
            XCTAssertGreaterThanOrEqual(Set(runs).count, 4, "five seeds gave \(Set(runs).count) distinct sequences")
            XCTAssertTrue(runs.contains { $0 != (try? run(.greedy)) }, "sampling never left the greedy path")
        }
    }

    func testTinyTopPOrZeroTemperatureIsGreedy() throws {
        let greedy = try run(.greedy)
        XCTAssertEqual(try run(.temperature(1.0, topP: 0, seed: 9)), greedy)
        XCTAssertEqual(try run(.temperature(1.5, topP: 1e-9, seed: 9)), greedy)
        XCTAssertEqual(try run(.temperature(0, topP: 0.9, seed: 9)), greedy)
    }

    func testGreedyTiesGoToTheLowestID() throws {
        var sampler = try TokenSampler(.greedy, vocabSize: 5)
        XCTAssertEqual(sampler.sample([0, 3, 1, 3, 2]), 1)
        var nucleus = try TokenSampler(.temperature(1, topP: 0, seed: 1), vocabSize: 5)
        XCTAssertEqual(nucleus.sample([0, 3, 1, 3, 2]), 1)
    }

    /// Frequencies follow the renormalised nucleus: probabilities [.5, .3, .15, .05] with top-p 0.7 keep {0, 1}.
    func testTopPKeepsTheSmallestPrefixAndRenormalises() throws {
        let logits = [0.5, 0.3, 0.15, 0.05].map { Float(log($0)) }
        func frequencies(_ mode: SamplingMode) throws -> [Double] {
            var sampler = try TokenSampler(mode, vocabSize: 4)
            var counts = [Double](repeating: 0, count: 4)
            for _ in 0..<40_000 { counts[sampler.sample(logits)] += 1 }
            return counts.map { $0 / 40_000 }
        }
        let nucleus = try frequencies(.temperature(1, topP: 0.7, seed: 3))
        XCTAssertEqual(nucleus[0], 0.625, accuracy: 0.015)
        XCTAssertEqual(nucleus[1], 0.375, accuracy: 0.015)
        XCTAssertEqual(nucleus[2] + nucleus[3], 0)
        let full = try frequencies(.temperature(1, topP: 1, seed: 3))
        for (f, p) in zip(full, [0.5, 0.3, 0.15, 0.05]) { XCTAssertEqual(f, p, accuracy: 0.015) }
        // Temperature 2 flattens: p^(1/2), renormalised.
        let roots = [0.5, 0.3, 0.15, 0.05].map { $0.squareRoot() }, z = roots.reduce(0, +)
        for (f, p) in zip(try frequencies(.temperature(2, topP: 1, seed: 3)), roots.map { $0 / z }) { XCTAssertEqual(f, p, accuracy: 0.015) }
    }

    /// A flat 5000-token distribution makes every candidate threshold too high: the nucleus must still be exact.
    func testNucleusOverAFlatLargeVocabularyIsExact() throws {
        let n = 5000
        let logits = (0..<n).map { Float(($0 * 7919) % n) / Float(n) }  // a permuted ramp
        let p = logits.map { exp(Double($0)) }, z = p.reduce(0, +)
        // Brute force: sort all, keep the smallest prefix with mass >= 0.9.
        let order = (0..<n).sorted { p[$0] > p[$1] || (p[$0] == p[$1] && $0 < $1) }
        var mass = 0.0, kept = Set<Int>()
        for i in order { kept.insert(i); mass += p[i] / z; if mass >= 0.9 { break } }
        var sampler = try TokenSampler(.temperature(1, topP: 0.9, seed: 5), vocabSize: n)
        var seen = Set<Int>()
        for _ in 0..<20_000 { seen.insert(sampler.sample(logits)) }
        XCTAssertTrue(seen.isSubset(of: kept), "drew \(seen.subtracting(kept).count) ids outside the nucleus")
        XCTAssertGreaterThan(seen.count, kept.count * 9 / 10)
    }

    func testBadSamplingSettingsAreRejected() {
        for mode in [SamplingMode.temperature(-1, topP: 0.9, seed: 0), .temperature(.nan, topP: 0.9, seed: 0),
                     .temperature(1, topP: 1.5, seed: 0), .temperature(1, topP: -0.1, seed: 0)] {
            XCTAssertThrowsError(try TokenSampler(mode, vocabSize: 10)) { error in
                guard case .badSampling = error as? RuntimeError else { return XCTFail("\(error)") }
            }
        }
    }

    /// SplitMix64 and xoshiro256** against their published reference outputs.
    func testGeneratorsMatchPublishedVectors() {
        var sm = SplitMix64(seed: 0)
        XCTAssertEqual([sm.next(), sm.next(), sm.next()], [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F])
        var x = Xoshiro256StarStar(state: (1, 2, 3, 4))
        XCTAssertEqual((0..<6).map { _ in x.next() }, [11520, 0, 1_509_978_240, 1_215_971_899_390_074_240,
                                                        1_216_172_134_540_287_360, 607_988_272_756_665_600])
    }
}
