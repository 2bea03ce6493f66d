// The tokenizer reproduces Hugging Face tokenizers (fixtures from scripts/gen-tokenizer-fixtures.py) on both models.
import PareIR
import PareTokenizer
import XCTest

final class TokenizerFixtureTests: XCTestCase {
    func testSmolLM2MatchesHuggingFace() throws { try checkEncodeDecode("smollm2-135m-instruct") }
    func testQwenMatchesHuggingFace() throws { try checkEncodeDecode("qwen2.5-coder-0.5b-instruct") }

    func testSmolLM2PreTokenizerPieces() throws { try checkPieces("smollm2-135m-instruct") }
    func testQwenPreTokenizerPieces() throws { try checkPieces("qwen2.5-coder-0.5b-instruct") }

    func testSmolLM2DecodeInvalidUTF8AndAddedTokens() throws { try checkDecode("smollm2-135m-instruct") }
    func testQwenDecodeInvalidUTF8AndAddedTokens() throws { try checkDecode("qwen2.5-coder-0.5b-instruct") }

    /// SmolLM2's vocabulary behind the GGUF's `smollm` pre-tokenizer (digits split off first).
    func testSmolLMDigitSplitVariant() throws { try checkVariant("smollm2-135m-instruct", "smollm") }
    /// Qwen's vocabulary behind the Llama 3 pattern (numbers of up to 3 digits, ignore_merges).
    func testLlama3PatternVariant() throws { try checkVariant("qwen2.5-coder-0.5b-instruct", "llama3") }

    func testFixturesCoverTheBrief() throws {
        for name in TokenizerPaths.models {
            let f = try Loaded.model(name).fixture
            XCTAssertGreaterThanOrEqual(f.humaneval.count, 40, name)
            XCTAssertGreaterThanOrEqual(f.corpus.count, 60, name)
            XCTAssertTrue(f.corpus.contains { $0.text.isEmpty }, name)
            XCTAssertTrue(f.corpus.contains { $0.text.contains("<|im_start|>") }, name)
            XCTAssertGreaterThan(f.decode.count, 10, name)
        }
    }

    // MARK: - Checks

    private func checkEncodeDecode(_ name: String) throws {
        let m = try Loaded.model(name)
        let failures = fixtureMismatches(m.tokenizer, m.fixture, report: { XCTFail("\(name): \($0)") })
        XCTAssertEqual(failures, 0, "\(name): \(failures) texts encode differently from \(m.fixture.reference)")
        for c in m.fixture.corpus + m.fixture.humaneval {
            let text = m.tokenizer.decode(c.ids)
            XCTAssertEqual(scalars(text), scalars(c.decoded), "\(name): decode of \(show(c.text)) gave \(show(text))")
            XCTAssertEqual(scalars(m.tokenizer.decode(m.tokenizer.encode(c.text))), scalars(c.text),
                           "\(name): decode(encode(x)) != x for \(show(c.text))")
        }
    }

    private func checkPieces(_ name: String) throws {
        let m = try Loaded.model(name)
        for c in m.fixture.corpus {
            guard let pieces = c.pieces else { continue }
            let got = m.tokenizer.preTokenizer.split(c.text).map { ByteLevel.encode($0) }
            XCTAssertEqual(got, pieces, "\(name): pieces of \(show(c.text))")
        }
    }

    private func checkDecode(_ name: String) throws {
        let m = try Loaded.model(name)
        for c in m.fixture.decode {
            let text = m.tokenizer.decode(c.ids)
            XCTAssertEqual(scalars(text), scalars(c.text), "\(name): decode \(c.ids) gave \(show(text)), expected \(show(c.text))")
        }
    }

    private func checkVariant(_ name: String, _ pre: String) throws {
        let m = try Loaded.model(name)
        let cases = try XCTUnwrap(m.fixture.variants[pre], "fixture lacks the \(pre) variant")
        var model = m.model
        model.preTokenizer = pre
        let tokenizer = try BPETokenizer(model: model)
        XCTAssertEqual(tokenizer.preTokenizer.rawValue, pre)
        for c in cases {
            XCTAssertEqual(tokenizer.encode(c.text), c.ids, "\(name) with \(pre): encode \(show(c.text))")
            if let pieces = c.pieces {
                XCTAssertEqual(tokenizer.preTokenizer.split(c.text).map { ByteLevel.encode($0) }, pieces,
                               "\(name) with \(pre): pieces of \(show(c.text))")
            }
        }
    }
}
