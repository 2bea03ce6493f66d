// The plan tokenizer and the incremental detokenizer: characters split across tokens come out whole.
import ParePlan
import PareIR
import PareRuntime
import PareTokenizer
import XCTest

final class RuntimeStreamerTests: XCTestCase {
    /// 256 byte tokens (id = byte value), then "é" (C3 A9) and a partial euro sign (E2 82) as merges.
    static let planTokenizer: PlanTokenizer = {
        var tokens = (0..<256).map { ByteLevel.encode(bytes: [UInt8($0)]) }
        tokens += [ByteLevel.encode(bytes: [0xC3, 0xA9]), ByteLevel.encode(bytes: [0xE2, 0x82])]
        let merges = [MergePair(left: tokens[0xC3], right: tokens[0xA9]), MergePair(left: tokens[0xE2], right: tokens[0x82])]
        return PlanTokenizer(tokens: tokens, kinds: Array(repeating: "normal", count: tokens.count), merges: merges,
                             preTokenizer: "gpt2", specials: [], idMap: [], originalSize: tokens.count)
    }()
    static let eAcute = 256, euroStart = 257

    func testPlanTokenizerEncodesWithItsMerges() throws {
        let tokenizer = try makeTokenizer(Self.planTokenizer)
        XCTAssertEqual(tokenizer.encode("é€"), [Self.eAcute, Self.euroStart, 0xAC])
        XCTAssertEqual(tokenizer.decode([Self.eAcute, Self.euroStart, 0xAC]), "é€")
        var bad = Self.planTokenizer
        bad.kinds[7] = "weird"
        XCTAssertThrowsError(try makeTokenizer(bad)) { error in
            XCTAssertEqual(error as? RuntimeError, .unknownTokenKind(index: 7, kind: "weird"))
            XCTAssertTrue(error.localizedDescription.contains("'weird'"))
        }
    }

    func testCharactersSplitAcrossTokensAreReassembled() throws {
        var s = TextStreamer(tokenizer: try makeTokenizer(Self.planTokenizer))
        XCTAssertEqual(s.push(Int(UInt8(ascii: "a"))), "a")
        XCTAssertEqual(s.push(0xC3), "")          // é as two byte tokens
        XCTAssertEqual(s.push(0xA9), "é")
        XCTAssertEqual(s.push(Self.euroStart), "") // € = [E2 82] + [AC]
        XCTAssertEqual(s.push(0xAC), "€")
        for (i, b) in [0xF0, 0x9F, 0x98, 0x80].enumerated() { XCTAssertEqual(s.push(b), i == 3 ? "😀" : "") }
        XCTAssertEqual(s.push(Self.eAcute), "é")
        XCTAssertEqual(s.push(10_000), "", "ids out of range add nothing")
        XCTAssertEqual(s.finish(), "")
        // An unfinished character at the end is flushed as U+FFFD.
        XCTAssertEqual(s.push(0xE2), "")
        XCTAssertEqual(s.finish(), "\u{FFFD}")
    }

    /// Pushed pieces plus finish() equal decode(ids) for random ids, including invalid UTF-8.
    func testStreamingEqualsDecodingForRandomIDs() throws {
        let tokenizer = try makeTokenizer(Self.planTokenizer)
        var r = TestRandom(seed: 11)
        let alphabet = [0x41, 0x20, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80, 0xFF, 0xC0, 0xED, 0xA0, Self.eAcute, Self.euroStart]
        for _ in 0..<2000 {
            let ids = (0..<(1 + r.int(12))).map { _ in alphabet[r.int(alphabet.count)] }
            var s = TextStreamer(tokenizer: tokenizer)
            let text = ids.map { s.push($0) }.joined() + s.finish()
            XCTAssertEqual(text, tokenizer.decode(ids), "ids \(ids)")
        }
        let sample = "naïve café — 東京 😀 ok"
        var s = TextStreamer(tokenizer: tokenizer)
        XCTAssertEqual(tokenizer.encode(sample).map { s.push($0) }.joined() + s.finish(), sample)
    }
}
