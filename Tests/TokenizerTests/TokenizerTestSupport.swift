// Shared test support: where the reference tokenizers and fixtures live, loaded once per test process.
import Foundation
import PareIR
import PareTokenizer
import XCTest

/// Paths of the package, its fixtures and the shared reference outputs.
enum TokenizerPaths {
    /// Package root: Tests/TokenizerTests/<this file> -> up two levels.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let fixtures = root + "/Tests/TokenizerTests/Fixtures"
    /// `$PARE_REFERENCE`, default `<root>/../shared/reference` (the steering repo's reference outputs).
    static let reference = ProcessInfo.processInfo.environment["PARE_REFERENCE"]
        ?? URL(fileURLWithPath: root).deletingLastPathComponent().appendingPathComponent("shared/reference").path
    static let models = ["smollm2-135m-instruct", "qwen2.5-coder-0.5b-instruct"]

    static func tokenizerJSON(_ model: String) -> String { "\(reference)/\(model)/tokenizer.json" }
}

/// One model's expected outputs, as scripts/gen-tokenizer-fixtures.py writes them.
struct TokenizerFixture: Decodable {
    struct Case: Decodable {
        var text: String
        var ids: [Int]
        var pieces: [String]?
        var decoded: String
    }
    struct DecodeCase: Decodable {
        var ids: [Int]
        var text: String
    }
    var reference: String
    var model: String
    var corpus: [Case]
    var humaneval: [Case]
    var decode: [DecodeCase]
    var variants: [String: [Case]]
}

/// The reference prompts of shared/reference/<model>/reference.json.
struct ReferenceFile: Decodable {
    struct Case: Decodable {
        var prompt: String
        var ids: [Int]
    }
    var cases: [Case]
}

/// Tokenizers and fixtures, loaded once and shared by all tests.
enum Loaded {
    struct Model {
        var name: String
        var model: BPEModel
        var specials: [SpecialToken]
        var tokenizer: BPETokenizer
        var fixture: TokenizerFixture
    }

    static let all: [String: Result<Model, Error>] = {
        var out: [String: Result<Model, Error>] = [:]
        for name in TokenizerPaths.models {
            out[name] = Result {
                let path = TokenizerPaths.tokenizerJSON(name)
                guard FileManager.default.fileExists(atPath: path) else {
                    throw Missing(what: "\(path) is missing: the reference tokenizers come with shared/reference "
                        + "(set PARE_REFERENCE to its folder if it lives elsewhere)")
                }
                let (model, specials) = try TokenizerJSON.load(path: path)
                let tokenizer = try BPETokenizer(model: model)
                let fixturePath = "\(TokenizerPaths.fixtures)/\(name).json"
                guard let data = FileManager.default.contents(atPath: fixturePath) else {
                    throw Missing(what: "\(fixturePath) is missing: run scripts/gen-tokenizer-fixtures.py")
                }
                let fixture = try JSONDecoder().decode(TokenizerFixture.self, from: data)
                return Model(name: name, model: model, specials: specials, tokenizer: tokenizer, fixture: fixture)
            }
        }
        return out
    }()

    /// A loaded model, or a test failure (never a skip) saying what is missing.
    static func model(_ name: String) throws -> Model {
        guard let result = all[name] else { throw Missing(what: "unknown model \(name)") }
        return try result.get()
    }

    struct Missing: Error, CustomStringConvertible {
        var what: String
        var description: String { what }
    }
}

/// Unicode scalars of a string: tests compare text exactly, not up to canonical equivalence as `==` does.
func scalars(_ s: String) -> [UInt32] { s.unicodeScalars.map(\.value) }

/// A readable one-line rendering of a test text.
func show(_ s: String, limit: Int = 80) -> String {
    let cut = s.unicodeScalars.count > limit ? String(String.UnicodeScalarView(s.unicodeScalars.prefix(limit))) + "..." : s
    return cut.debugDescription
}

/// The number of fixture texts (corpus and HumanEval) whose ids differ from the expected ones; the
/// first few differences go to `report`.
func fixtureMismatches(_ tokenizer: BPETokenizer, _ fixture: TokenizerFixture, report: (String) -> Void = { _ in }) -> Int {
    var failures = 0
    for c in fixture.corpus + fixture.humaneval {
        let ids = tokenizer.encode(c.text)
        if ids != c.ids {
            failures += 1
            if failures <= 5 { report("encode \(show(c.text)):\n  got      \(ids)\n  expected \(c.ids)") }
        }
    }
    return failures
}
