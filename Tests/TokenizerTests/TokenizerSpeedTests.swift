// Encoding speed on code: HumanEval prompts repeated to about 1 MB, per model.
import Foundation
import PareTokenizer
import XCTest

final class TokenizerSpeedTests: XCTestCase {
    func testEncodeThroughput() throws {
        for name in TokenizerPaths.models {
            let m = try Loaded.model(name)
            let unit = m.fixture.humaneval.map(\.text).joined(separator: "\n")
            let text = String(repeating: unit, count: max(1, 1_000_000 / unit.utf8.count))
            let expected = m.fixture.humaneval.reduce(0) { $0 + $1.ids.count }
            let start = Date()
            let ids = m.tokenizer.encode(text)
            let seconds = Date().timeIntervalSince(start)
            let mbps = Double(text.utf8.count) / seconds / 1e6
            print("\(name): encoded \(text.utf8.count) bytes to \(ids.count) tokens in \(String(format: "%.3f", seconds)) s "
                + "(\(String(format: "%.1f", mbps)) MB/s)")
            XCTAssertGreaterThan(ids.count, expected)  // joined with newlines: at least the separate counts
            XCTAssertGreaterThan(mbps, 1.0, "\(name): encoding is too slow")
            let decodeStart = Date()
            XCTAssertEqual(m.tokenizer.decode(ids).utf8.count, text.utf8.count)
            print("\(name): decoded in \(String(format: "%.3f", Date().timeIntervalSince(decodeStart))) s")
        }
    }
}
