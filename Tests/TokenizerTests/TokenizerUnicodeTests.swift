// The scanners' character classes agree with the reference's (\p{L}, \p{N}, \s) on every Unicode scalar.
import Foundation
import PareTokenizer
import XCTest

final class TokenizerUnicodeTests: XCTestCase {
    private struct Classes: Decodable {
        var reference: String
        var letter: [[UInt32]]
        var number: [[UInt32]]
        var whitespace: [[UInt32]]
    }

    func testCharacterClassesMatchReferenceOnEveryScalar() throws {
        let path = TokenizerPaths.fixtures + "/unicode-classes.json"
        let data = try XCTUnwrap(FileManager.default.contents(atPath: path), "\(path) is missing: run scripts/gen-tokenizer-fixtures.py")
        let ref = try JSONDecoder().decode(Classes.self, from: data)
        func membership(_ ranges: [[UInt32]]) -> [Bool] {
            var out = [Bool](repeating: false, count: 0x110000)
            for r in ranges { for v in r[0]..<r[1] { out[Int(v)] = true } }
            return out
        }
        let letter = membership(ref.letter), number = membership(ref.number), space = membership(ref.whitespace)
        XCTAssertGreaterThan(ref.letter.count, 600)
        var mismatches: [String] = []
        for v in UInt32(0)..<0x110000 {
            guard let s = Unicode.Scalar(v) else { continue }
            let c = PreTokenizer.classes(of: s)
            if c.letter != letter[Int(v)] || c.number != number[Int(v)] || c.whitespace != space[Int(v)] {
                mismatches.append("U+\(String(v, radix: 16, uppercase: true)) L\(c.letter) N\(c.number) S\(c.whitespace)")
            }
        }
        XCTAssertEqual(mismatches.count, 0, "classes differ from \(ref.reference): \(mismatches.prefix(10))")
    }
}
