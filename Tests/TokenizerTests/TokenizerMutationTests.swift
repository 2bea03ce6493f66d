// The fixture check can fail: a merge table with two competing ranks swapped no longer reproduces Hugging Face.
import PareIR
import PareTokenizer
import XCTest

final class TokenizerMutationTests: XCTestCase {
    func testSwappedMergeRanksBreakSmolLM2Fixtures() throws { try check("smollm2-135m-instruct") }
    func testSwappedMergeRanksBreakQwenFixtures() throws { try check("qwen2.5-coder-0.5b-instruct") }

    /// ("r","e") and ("e","r") compete on "ere"; exchanging their ranks changes words like "there".
    private func check(_ name: String) throws {
        let m = try Loaded.model(name)
        XCTAssertEqual(fixtureMismatches(m.tokenizer, m.fixture), 0, "\(name): the unbroken tables must pass")
        var broken = m.model
        let re = try XCTUnwrap(broken.merges.firstIndex { $0 == ("r", "e") })
        let er = try XCTUnwrap(broken.merges.firstIndex { $0 == ("e", "r") })
        broken.merges.swapAt(re, er)
        let mismatches = fixtureMismatches(try BPETokenizer(model: broken), m.fixture)
        XCTAssertGreaterThan(mismatches, 0, "\(name): swapping merge ranks \(re) and \(er) went unnoticed")
    }

    /// Dropping the added tokens (as if they were ordinary vocabulary) breaks the chat-template texts.
    func testAddedTokensAsNormalBreakFixtures() throws {
        let m = try Loaded.model("qwen2.5-coder-0.5b-instruct")
        var broken = m.model
        broken.kinds = broken.kinds.map { _ in .normal }
        XCTAssertGreaterThan(fixtureMismatches(try BPETokenizer(model: broken), m.fixture), 0)
    }

    /// The wrong pre-tokenizer on the right vocabulary is noticed.
    func testWrongPreTokenizerBreaksFixtures() throws {
        let m = try Loaded.model("qwen2.5-coder-0.5b-instruct")
        var broken = m.model
        broken.preTokenizer = "gpt2"
        XCTAssertGreaterThan(fixtureMismatches(try BPETokenizer(model: broken), m.fixture), 10)
    }
}
