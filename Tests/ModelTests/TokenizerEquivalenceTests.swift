// The tokenizer built from GGUF metadata and the one built from transformers' tokenizer.json give the same ids
// on real code (HumanEval prompts and solutions) and on tricky strings, and decode(encode(x)) == x.
import Foundation
import PareFrontend
import PareIR
import PareTokenizer
import XCTest

/// Real code to tokenize: HumanEval's 164 prompts and canonical solutions, plus hand-picked hard cases.
enum TokenizerCorpus {
    private static var humanEvalCache: [String]?

    /// The prompts and canonical solutions of `.cache/data/HumanEval.jsonl.gz`, in file order (328 texts).
    static func humanEval() throws -> [String] {
        if let c = humanEvalCache { return c }
        let path = try Paths.require(Paths.cache + "/data/HumanEval.jsonl.gz")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/gzip")
        p.arguments = ["-dc", path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: path]) }
        var texts: [String] = []
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            let obj = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
            guard let prompt = obj?["prompt"] as? String, let solution = obj?["canonical_solution"] as? String else {
                throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: path])
            }
            texts += [prompt, solution]
        }
        humanEvalCache = texts
        return texts
    }

    /// Strings that stress splitting, byte-level encoding and added-token matching.
    static let tricky: [String] = [
        "", " ", "x", "def f():\r\n    return 1\r\n", "\tindented\t\ttabs\t", "a  b   c    d\n\n\n  e",
        "trailing spaces   \n   \n", "it's we've they're I'M you'LL", "x=1;y=2\n\tz = x+y  # sum",
        "naïve café — “quotes” ‘single’ «guillemets» Ünïcödé", "中文注释：计算斐波那契数列", "한국어 주석", "Привет, мир",
        "emoji 😀👩‍💻🇫🇷 and ZWJ ‍ sequences", "\u{0}\u{1}\u{7f} control bytes", "math: ∑ ∫ √ ≤ ≥ ≠ ∞",
        "<|im_start|>user\nWrite code<|im_end|>\n<|im_start|>assistant\n", "<|endoftext|>", "<|im_end|><|im_end|>",
        "not special: <|im_star|> <|endoftext", "x<|endoftext|>y", "<|fim_prefix|>def <|fim_suffix|>\n<|fim_middle|>",
        "0 12 345 6789 3.14159 1e-10 0x1F 1_000_000", "v1.2.3-beta+build.45", String(repeating: "ab", count: 2000),
        String(repeating: " ", count: 300) + "x", String(repeating: "\n", count: 50),
    ]

    /// Non-ASCII numeric characters, where SmolLM2's GGUF pre-tokenizer (digits split one by one) may differ from
    /// the tokenizer.json transformers wrote (no digit step).
    static let nonASCIIDigits: [String] = ["٣٤٥ Arabic-Indic", "²³ superscripts", "½ ¾ fractions", "①②③ circled", "Ⅻ roman", "१२३ Devanagari"]
}

/// One text on which two tokenizers disagree.
struct TokenizerMismatch: CustomStringConvertible {
    var text: String
    var a: [Int]
    var b: [Int]
    var description: String {
        let at = zip(a, b).firstIndex { $0 != $1 } ?? min(a.count, b.count)
        return "\(text.prefix(80).debugDescription): first difference at token \(at): \(a[at...].prefix(5)) vs \(b[at...].prefix(5))"
    }
}

final class TokenizerEquivalenceTests: XCTestCase {
    /// The texts on which `a` and `b` give different ids.
    func mismatches(_ a: BPETokenizer, _ b: BPETokenizer, on texts: [String]) -> [TokenizerMismatch] {
        texts.compactMap { t in
            let (x, y) = (a.encode(t), b.encode(t))
            return x == y ? nil : TokenizerMismatch(text: t, a: x, b: y)
        }
    }

    func ggufTokenizer(_ path: String) throws -> BPETokenizer { try loadTokenizer(try Paths.require(path)) }

    func jsonTokenizer(_ referenceDir: String) throws -> BPETokenizer {
        try BPETokenizer(model: TokenizerJSON.load(path: try Paths.require(referenceDir + "/tokenizer.json")).model)
    }

    func testQwenGGUFAndTokenizerJSONAgree() throws {
        let gguf = try ggufTokenizer(Paths.qwenGGUF), json = try jsonTokenizer(Paths.qwenReference)
        let corpus = try TokenizerCorpus.humanEval() + TokenizerCorpus.tricky + TokenizerCorpus.nonASCIIDigits
        XCTAssertEqual(corpus.count, 328 + TokenizerCorpus.tricky.count + TokenizerCorpus.nonASCIIDigits.count)
        let bad = mismatches(gguf, json, on: corpus)
        XCTAssertTrue(bad.isEmpty, "\(bad.count) texts differ:\n" + bad.prefix(10).map(\.description).joined(separator: "\n"))
        // Special tokens written in text are matched as such.
        XCTAssertEqual(gguf.encode("<|im_start|>").count, 1)
        XCTAssertEqual(gguf.encode("<|endoftext|>"), [151643])
    }

    func testSmolLM2GGUFAndTokenizerJSONAgreeOnASCII() throws {
        let gguf = try ggufTokenizer(Paths.smolGGUF), json = try jsonTokenizer(Paths.smolReference)
        XCTAssertEqual(gguf.preTokenizer, .smollm)
        let corpus = try TokenizerCorpus.humanEval() + TokenizerCorpus.tricky
        let bad = mismatches(gguf, json, on: corpus)
        let ascii = bad.filter { $0.text.unicodeScalars.allSatisfy(\.isASCII) }
        XCTAssertTrue(ascii.isEmpty, "\(ascii.count) ASCII texts differ:\n" + ascii.prefix(10).map(\.description).joined(separator: "\n"))
        // Non-ASCII text may differ only where it has non-ASCII numeric characters (the digit step).
        let unexplained = bad.filter { m in
            !m.text.unicodeScalars.allSatisfy(\.isASCII)
                && !m.text.unicodeScalars.contains { !$0.isASCII && $0.properties.numericType != nil }
        }
        XCTAssertTrue(unexplained.isEmpty, "non-ASCII texts without non-ASCII digits differ:\n"
                      + unexplained.prefix(10).map(\.description).joined(separator: "\n"))
        // Reported, not asserted: how the two differ on non-ASCII digits.
        let digits = mismatches(gguf, json, on: TokenizerCorpus.nonASCIIDigits)
        print("SmolLM2 GGUF vs tokenizer.json on non-ASCII digits: \(digits.count) of \(TokenizerCorpus.nonASCIIDigits.count) differ")
        for m in digits { print("  " + m.description) }
        XCTAssertEqual(gguf.encode("<|im_end|>"), [2])
    }

    func testDecodeInvertsEncode() throws {
        let corpus = try TokenizerCorpus.humanEval() + TokenizerCorpus.tricky + TokenizerCorpus.nonASCIIDigits
        let tokenizers = [("SmolLM2 GGUF", try ggufTokenizer(Paths.smolGGUF)), ("SmolLM2 JSON", try jsonTokenizer(Paths.smolReference)),
                          ("Qwen GGUF", try ggufTokenizer(Paths.qwenGGUF)), ("Qwen JSON", try jsonTokenizer(Paths.qwenReference))]
        for (name, tok) in tokenizers {
            var failures = 0
            for text in corpus where tok.decode(tok.encode(text)) != text {
                failures += 1
                if failures <= 3 { XCTFail("\(name): decode(encode(x)) != x for \(text.prefix(80).debugDescription)") }
            }
            XCTAssertEqual(failures, 0, "\(name): \(failures) texts do not round-trip")
        }
    }

    /// The comparison itself must catch a broken tokenizer: tokenizer.json's model with two merge ranks swapped.
    func testComparisonCatchesSwappedMerges() throws {
        let loaded = try TokenizerJSON.load(path: try Paths.require(Paths.smolReference + "/tokenizer.json"))
        var model = loaded.model
        // Rank 0 is the most common merge; demoting it below a much later one changes how many words split.
        model.merges.swapAt(0, 5000)
        let broken = try BPETokenizer(model: model)
        let good = try jsonTokenizer(Paths.smolReference)
        let corpus = try TokenizerCorpus.humanEval()
        let bad = mismatches(good, broken, on: corpus)
        XCTAssertGreaterThan(bad.count, 0, "swapping merges 0 and 5000 went unnoticed: the comparison cannot fail")
        // And a tokenizer compared with itself never differs.
        XCTAssertTrue(mismatches(good, try jsonTokenizer(Paths.smolReference), on: corpus).isEmpty)
    }
}
