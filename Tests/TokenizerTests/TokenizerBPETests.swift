// BPE, added-token matching and the pre-tokenizers on a tiny hand-made vocabulary, where every outcome is known.
import PareIR
import PareTokenizer
import XCTest

final class TokenizerBPETests: XCTestCase {
    /// Tokens: a b c e > Ġ ab bc abc aa Ġa <special> <spe
    static let tokens = ["a", "b", "c", "e", ">", "Ġ", "ab", "bc", "abc", "aa", "Ġa", "<special>", "<spe"]
    static let kinds: [TokenKind] = Array(repeating: .normal, count: 11) + [.control, .userDefined]

    private func tokenizer(_ merges: [(String, String)], pre: String = "gpt2") throws -> BPETokenizer {
        try BPETokenizer(model: BPEModel(tokens: Self.tokens, kinds: Self.kinds, merges: merges, preTokenizer: pre))
    }

    private func id(_ t: String) -> Int { Self.tokens.firstIndex(of: t)! }

    func testLowestRankMergesFirst() throws {
        let t1 = try tokenizer([("a", "b"), ("b", "c"), ("ab", "c")])
        XCTAssertEqual(t1.encode("abc"), [id("abc")])
        // With (b, c) ranked first, "abc" becomes a + bc, and no rule joins those.
        let t2 = try tokenizer([("b", "c"), ("a", "b"), ("ab", "c")])
        XCTAssertEqual(t2.encode("abc"), [id("a"), id("bc")])
        XCTAssertEqual(t2.encode("bc"), [id("bc")])
    }

    func testTiesMergeLeftmostFirst() throws {
        let t = try tokenizer([("a", "a")])
        XCTAssertEqual(t.encode("aaa"), [id("aa"), id("a")])
        XCTAssertEqual(t.encode("aaaa"), [id("aa"), id("aa")])
        XCTAssertEqual(t.encode("aaaaa"), [id("aa"), id("aa"), id("a")])
    }

    func testSpaceIsByteLevelMapped() throws {
        let t = try tokenizer([("Ġ", "a")])
        XCTAssertEqual(t.encode("a a"), [id("a"), id("Ġa")])
        XCTAssertEqual(t.decode([id("a"), id("Ġa")]), "a a")
    }

    func testBytesMissingFromTheVocabularyAreDropped() throws {
        let t = try tokenizer([])
        XCTAssertEqual(t.encode("axb"), [id("a"), id("b")])
    }

    func testAddedTokensLeftmostLongest() throws {
        let t = try tokenizer([("a", "b")])
        XCTAssertEqual(t.encode("ab<special>ab"), [id("ab"), id("<special>"), id("ab")])
        XCTAssertEqual(t.encode("<spe>"), [id("<spe"), id(">")])
        XCTAssertEqual(t.encode("<spe<special>"), [id("<spe"), id("<special>")])
        XCTAssertEqual(t.decode([id("<special>"), id("a")]), "<special>a")
    }

    func testAccessors() throws {
        let t = try tokenizer([])
        XCTAssertEqual(t.count, Self.tokens.count)
        XCTAssertEqual(t.tokenString(id("Ġa")), "Ġa")
        XCTAssertNil(t.tokenString(-1))
        XCTAssertNil(t.tokenString(Self.tokens.count))
        XCTAssertEqual(t.id(of: "<spe"), id("<spe"))
        XCTAssertNil(t.id(of: "zzz"))
        XCTAssertEqual(t.kind(id("<special>")), .control)
        XCTAssertEqual(t.decode([999, -3, id("a")]), "a")
        XCTAssertEqual(t.encode(""), [])
    }

    func testInconsistentModelsThrow() {
        func model(_ tokens: [String], _ merges: [(String, String)], pre: String = "gpt2") -> BPEModel {
            BPEModel(tokens: tokens, kinds: tokens.map { _ in .normal }, merges: merges, preTokenizer: pre)
        }
        XCTAssertThrowsError(try BPETokenizer(model: model(["a"], [], pre: "bert"))) {
            XCTAssertEqual($0 as? TokenizerError, .unknownPreTokenizer(name: "bert", known: ["gpt2", "smollm", "qwen2", "llama3"]))
        }
        XCTAssertThrowsError(try BPETokenizer(model: model(["a", "b", "a"], []))) {
            XCTAssertEqual($0 as? TokenizerError, .duplicateToken(token: "a", firstId: 0, secondId: 2))
        }
        XCTAssertThrowsError(try BPETokenizer(model: model(["a", "b", "ab"], [("a", "b"), ("a", "z")]))) {
            XCTAssertEqual($0 as? TokenizerError, .mergeTokenUnknown(rank: 1, token: "z"))
        }
        XCTAssertThrowsError(try BPETokenizer(model: model(["a", "b"], [("a", "b")]))) {
            XCTAssertEqual($0 as? TokenizerError, .mergeResultUnknown(rank: 0, left: "a", right: "b"))
            XCTAssertTrue(($0 as? LocalizedError)?.errorDescription?.contains("\"ab\"") ?? false)
        }
        XCTAssertThrowsError(try BPETokenizer(model: BPEModel(tokens: ["a"], kinds: [], merges: [], preTokenizer: "gpt2"))) {
            XCTAssertEqual($0 as? TokenizerError, .kindCountMismatch(tokens: 1, kinds: 0))
        }
    }

    func testByteLevelMapping() {
        XCTAssertEqual(ByteLevel.encode(" \n\t!~é"), "ĠĊĉ!~Ã©")
        XCTAssertEqual(ByteLevel.decode("ĠĊĉ!~Ã©"), Array(" \n\t!~é".utf8))
        XCTAssertNil(ByteLevel.decode("a b"))
        let all = ByteLevel.encode(bytes: (0...255).map(UInt8.init))
        XCTAssertEqual(Set(all.unicodeScalars).count, 256)
        XCTAssertEqual(ByteLevel.decode(all), (0...255).map(UInt8.init))
    }

    /// Hand-checked splits of the regex corner cases.
    func testPreTokenizerCornerCases() throws {
        let gpt2 = PreTokenizer.gpt2, qwen = PreTokenizer.qwen2, smol = PreTokenizer.smollm, llama = PreTokenizer.llama3
        XCTAssertEqual(gpt2.split("a   b"), ["a", "  ", " b"])  // \s+(?!\S) leaves one space for " b"
        XCTAssertEqual(gpt2.split("a  \tb"), ["a", "  ", "\t", "b"])
        XCTAssertEqual(gpt2.split("x  "), ["x", "  "])  // at the end the whole run
        XCTAssertEqual(gpt2.split("it's 'Sa"), ["it", "'s", " '", "Sa"])  // case-sensitive
        XCTAssertEqual(gpt2.split(" 123 x1"), [" 123", " x", "1"])
        XCTAssertEqual(smol.split(" 123 x1"), [" ", "1", "2", "3", " x", "1"])
        XCTAssertEqual(qwen.split("IT'S x'ſa"), ["IT", "'S", " x", "'ſ", "a"])  // (?i) folds ſ to s
        XCTAssertEqual(qwen.split("a.append(b)"), ["a", ".append", "(b", ")"])
        XCTAssertEqual(qwen.split("x;\n\ny"), ["x", ";\n\n", "y"])
        XCTAssertEqual(qwen.split("a \n \n  b"), ["a", " \n \n", " ", " b"])  // \s*[\r\n]+ up to the last newline
        XCTAssertEqual(qwen.split("12345"), ["1", "2", "3", "4", "5"])
        XCTAssertEqual(llama.split("12345"), ["123", "45"])
        XCTAssertEqual(qwen.split(""), [])
    }

    func testPreTokenizerNames() throws {
        XCTAssertEqual(try PreTokenizer(name: "qwen2"), .qwen2)
        XCTAssertEqual(try PreTokenizer(ggufName: "gpt-2"), .gpt2)
        XCTAssertEqual(try PreTokenizer(ggufName: "llama-bpe"), .llama3)
        XCTAssertEqual(try PreTokenizer(ggufName: "smollm"), .smollm)
        XCTAssertThrowsError(try PreTokenizer(ggufName: "deepseek-coder"))
    }
}
