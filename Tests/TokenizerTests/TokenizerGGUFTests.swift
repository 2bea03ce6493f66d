// BPEModel.fromGGUF on hand-made GGUF-style metadata: token types, "a b" merges, llama.cpp pre-tokenizer names.
import PareIR
import PareTokenizer
import XCTest

final class TokenizerGGUFTests: XCTestCase {
    func testBuildsModelFromMetadata() throws {
        let model = try BPEModel.fromGGUF(
            tokens: ["<|endoftext|>", "h", "i", "Ġ", "hi", "Ġhi", "<tool>", "[PAD1]", "<unk>", "<0x0A>"],
            tokenTypes: [3, 1, 1, 1, 1, 1, 4, 5, 2, 6],
            merges: ["h i", "Ġ hi"], pre: "qwen2")
        XCTAssertEqual(model.kinds, [.control, .normal, .normal, .normal, .normal, .normal, .userDefined, .unused, .unknown, .byte])
        XCTAssertEqual(model.merges.count, 2)
        XCTAssertTrue(model.merges[1] == ("Ġ", "hi"))
        XCTAssertEqual(model.preTokenizer, "qwen2")
        let t = try BPETokenizer(model: model)
        XCTAssertEqual(t.encode("hi hi<|endoftext|><tool>[PAD1]"), [4, 5, 0, 6])  // "[PAD1]" bytes are not in this vocabulary
        XCTAssertEqual(t.decode([4, 5, 0, 6]), "hi hi<|endoftext|><tool>")
    }

    func testPreNames() throws {
        for (gguf, name) in [("gpt2", "gpt2"), ("gpt-2", "gpt2"), ("smollm", "smollm"), ("qwen2", "qwen2"),
                             ("llama-bpe", "llama3"), ("llama3", "llama3")] {
            XCTAssertEqual(try BPEModel.fromGGUF(tokens: [], tokenTypes: [], merges: [], pre: gguf).preTokenizer, name)
        }
    }

    func testBadMetadataThrows() {
        XCTAssertThrowsError(try BPEModel.fromGGUF(tokens: ["a"], tokenTypes: [1], merges: [], pre: "starcoder")) {
            guard case .unknownPreTokenizer(name: "starcoder", _)? = $0 as? TokenizerError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try BPEModel.fromGGUF(tokens: ["a", "b"], tokenTypes: [1, 7], merges: [], pre: "gpt2")) {
            XCTAssertEqual($0 as? TokenizerError, .badTokenType(index: 1, value: 7))
        }
        XCTAssertThrowsError(try BPEModel.fromGGUF(tokens: ["a"], tokenTypes: [1, 1], merges: [], pre: "gpt2")) {
            XCTAssertEqual($0 as? TokenizerError, .kindCountMismatch(tokens: 1, kinds: 2))
        }
        for bad in ["ab", "a b c", "a  b", " a", ""] {
            XCTAssertThrowsError(try BPEModel.fromGGUF(tokens: ["a"], tokenTypes: [1], merges: ["a a", bad], pre: "gpt2")) {
                XCTAssertEqual($0 as? TokenizerError, .badMerge(index: 1, text: bad))
            }
        }
    }
}
