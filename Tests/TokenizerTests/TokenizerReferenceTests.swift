// The prompts of shared/reference/<model>/reference.json tokenize to exactly the ids transformers gave.
import Foundation
import PareTokenizer
import XCTest

final class TokenizerReferenceTests: XCTestCase {
    func testSmolLM2ReferencePrompts() throws { try check("smollm2-135m-instruct") }
    func testQwenReferencePrompts() throws { try check("qwen2.5-coder-0.5b-instruct") }

    private func check(_ name: String) throws {
        let m = try Loaded.model(name)
        let path = "\(TokenizerPaths.reference)/\(name)/reference.json"
        let data = try XCTUnwrap(FileManager.default.contents(atPath: path), "\(path) is missing (shared/reference)")
        let reference = try JSONDecoder().decode(ReferenceFile.self, from: data)
        XCTAssertFalse(reference.cases.isEmpty)
        for c in reference.cases {
            XCTAssertEqual(m.tokenizer.encode(c.prompt), c.ids, "\(name): \(show(c.prompt))")
            XCTAssertEqual(scalars(m.tokenizer.decode(c.ids)), scalars(c.prompt), "\(name): decode of \(show(c.prompt))")
        }
    }
}
