// The FileCheck checker and the golden harness are themselves tested: checks that must fail do fail.
import XCTest
import PareIR

final class IRFileCheckTests: XCTestCase {
    let output = """
    module @m {
      %0 = embed @t, %tokens : tensor<?x8xf32>
      %1 = rms_norm %0, @w {eps = 1e-05} : tensor<?x8xf32>
      return %1
    }
    """

    func failures(_ checks: String) -> [String] { FileCheck(checks: checks, file: "t.pir").run(on: output) }

    func testPassingChecks() {
        XCTAssertEqual(failures("""
        // CHECK: module @m
        // CHECK-NEXT: %0 = embed
        // CHECK-SAME: tensor<?x8xf32>
        // CHECK-NOT: linear
        // CHECK: rms_norm %0, @w {eps = {{[0-9.e-]+}}}
        // CHECK: return   %1
        """), [])
    }

    func testMissingStringFails() {
        let f = failures("// CHECK: linear %0")
        XCTAssertEqual(f.count, 1)
        XCTAssertTrue(f[0].contains("t.pir:1: error: CHECK: expected string not found"), f[0])
    }

    func testCheckNextOnWrongLineFails() {
        let f = failures("// CHECK: module @m\n// CHECK-NEXT: rms_norm")
        XCTAssertEqual(f.count, 1)
        XCTAssertTrue(f[0].contains("t.pir:2: error: CHECK-NEXT"), f[0])
    }

    func testCheckSameMustFollowOnTheSameLine() {
        XCTAssertEqual(failures("// CHECK: %0 = embed\n// CHECK-SAME: rms_norm").count, 1)
        XCTAssertEqual(failures("// CHECK: tensor<?x8xf32>\n// CHECK-SAME: embed").count, 1, "SAME searches after the match")
    }

    func testCheckNotFindsExcludedString() {
        let f = failures("// CHECK: module\n// CHECK-NOT: embed\n// CHECK: rms_norm")
        XCTAssertEqual(f.count, 1)
        XCTAssertTrue(f[0].contains("CHECK-NOT: excluded string found"), f[0])
        XCTAssertEqual(failures("// CHECK: rms_norm\n// CHECK-NOT: embed"), [], "NOT only looks between matches")
        XCTAssertEqual(failures("// CHECK: embed\n// CHECK-NOT: return").count, 1, "a trailing NOT looks to the end")
    }

    func testOrderMatters() {
        XCTAssertEqual(failures("// CHECK: rms_norm\n// CHECK: embed").count, 1)
    }

    func testRegexBlocksAreAnchoredToTheirText() {
        XCTAssertEqual(failures("// CHECK: eps = {{[a-z]+}}}").count, 1)
    }

    func testMalformedDirectivesFail() {
        XCTAssertEqual(failures("// CHECK-NXT: embed").count, 1, "a misspelled directive is an error")
        XCTAssertEqual(failures("// CHECK-NEXT: embed").count, 1, "NEXT cannot come first")
        XCTAssertEqual(failures("// no checks here").count, 1, "a file without checks fails")
    }

    // MARK: The golden harness

    var tinyText: String { printModule(tinyModule(blocks: 1)) }

    func testHarnessAcceptsACorrectGolden() {
        let g = GoldenFile(name: "ok.pir", text: "// RUN: roundtrip\n// CHECK: module @tiny-llama\n" + tinyText)
        XCTAssertEqual(GoldenRunner.run(g), [])
    }

    func testHarnessRejectsAMissingExpectedError() {
        let text = tinyText.replacingOccurrences(of: "    %0 = embed", with: "    // expected-error@+1 {{boom}}\n    %0 = embed")
        let f = GoldenRunner.run(GoldenFile(name: "bad.pir", text: "// RUN: verify\n// CHECK-NOT: error\n" + text))
        XCTAssertEqual(f.count, 1, "\(f)")
        XCTAssertTrue(f.first?.contains("expected error not produced: {{boom}}") ?? false, "\(f)")
    }

    func testHarnessRejectsAnUnexpectedError() {
        let text = tinyText.replacingOccurrences(of: "kv_slot = 0", with: "kv_slot = 3")
        let f = GoldenRunner.run(GoldenFile(name: "bad.pir", text: "// RUN: verify\n// CHECK: kv_slot\n" + text))
        XCTAssertEqual(f.count, 1, "\(f)")
        XCTAssertTrue(f.first?.contains("unexpected error: kv_slot 3 is out of range") ?? false, "\(f)")
    }

    func testHarnessRejectsNonCanonicalText() {
        let text = tinyText.replacingOccurrences(of: "{head_dim = 4, heads = 2, theta = 10000.0}",
                                                 with: "{heads = 2, head_dim = 4, theta = 10000.0}")
        let f = GoldenRunner.run(GoldenFile(name: "bad.pir", text: "// RUN: roundtrip\n// CHECK: module\n" + text))
        XCTAssertEqual(f.count, 1, "\(f)")
        XCTAssertTrue(f.first?.contains("not in canonical form") ?? false, "\(f)")
    }

    /// The TOKENIZER directive is what gives a parsed module its BPE tables: without it, or with a missing file,
    /// the vocab-prune golden file fails instead of passing vacuously; `%S` resolves to the file's folder.
    func testHarnessTokenizerDirectiveIsRequiredAndChecked() throws {
        let name = "vocab-prune/used_tokens.pir"
        let text = try String(contentsOf: GoldenRunner.goldenRoot.appendingPathComponent(name), encoding: .utf8)
        XCTAssertEqual(GoldenRunner.run(GoldenFile(name: name, text: text)), [])
        let without = text.replacingOccurrences(of: "// TOKENIZER: tokenizer.json\n", with: "")
        XCTAssertNotEqual(without, text)
        let f1 = GoldenRunner.run(GoldenFile(name: name, text: without))
        XCTAssertTrue(f1.contains { $0.contains("vocab-prune") && $0.contains("failed") }, "\(f1)")
        let missing = text.replacingOccurrences(of: "// TOKENIZER: tokenizer.json", with: "// TOKENIZER: missing.json")
        let f2 = GoldenRunner.run(GoldenFile(name: name, text: missing))
        XCTAssertTrue(f2.contains { $0.contains("cannot load tokenizer") && $0.contains("missing.json") }, "\(f2)")
        let noSubstitution = text.replacingOccurrences(of: "%S/used.txt", with: "used.txt")
        let f3 = GoldenRunner.run(GoldenFile(name: name, text: noSubstitution))
        XCTAssertTrue(f3.contains { $0.contains("used.txt") && $0.contains("no such file") && $0.contains("corpus") }, "a corpus path without %S must not resolve: \(f3)")
    }

    func testHarnessRejectsAFailingCheckAndAMissingRunLine() {
        XCTAssertEqual(GoldenRunner.run(GoldenFile(name: "bad.pir", text: "// RUN: dce\n// CHECK: ops erased = 7\n" + tinyText)).count, 1)
        XCTAssertEqual(GoldenRunner.run(GoldenFile(name: "bad.pir", text: "// CHECK: module\n" + tinyText)).count, 1)
        XCTAssertEqual(GoldenRunner.run(GoldenFile(name: "bad.pir", text: "// RUN: frobnicate\n// CHECK: x\n" + tinyText)).count, 1)
    }
}
