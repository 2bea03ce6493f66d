// Parser errors: malformed text gives an IRParseError located at the offending token, with an actionable message.
import XCTest
import PareIR

final class IRParserErrorTests: XCTestCase {
    let good = printModule(IRPrinterTests.minimal())

    /// Parses `text` and returns the error, failing if it parses.
    func parseError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> IRParseError? {
        do {
            _ = try parseModule(text, file: "bad.pir")
            XCTFail("expected a parse error", file: file, line: line)
        } catch let e as IRParseError {
            return e
        } catch {
            XCTFail("expected IRParseError, got \(error)", file: file, line: line)
        }
        return nil
    }

    /// Replaces the first occurrence of `old` in the minimal module's text and expects an error at (line, col).
    func expectError(replacing old: String, with new: String, kind: IRParseError.Kind, at line: Int, _ column: Int,
                     message: String, file: StaticString = #filePath, sourceLine: UInt = #line) {
        guard let r = good.range(of: old) else { return XCTFail("no '\(old)' in the text", file: file, line: sourceLine) }
        guard let e = parseError(good.replacingCharacters(in: r, with: new), file: file, line: sourceLine) else { return }
        XCTAssertEqual(e.kind, kind, e.localizedDescription, file: file, line: sourceLine)
        XCTAssertEqual(e.localizedDescription, "bad.pir:\(line):\(column): error: \(message)", file: file, line: sourceLine)
    }

    func testUnexpectedToken() {
        expectError(replacing: "%1 = rms_norm %0, @norm", with: "%1 = rms_norm %0 @norm", kind: .unexpectedToken, at: 16, 22,
                    message: "expected ':' before the result type of %1, found symbol @norm")
        expectError(replacing: "metadata {", with: "metadata [", kind: .unexpectedToken, at: 3, 12,
                    message: "expected '{' after 'metadata', found '['")
        expectError(replacing: "module @m {", with: "modul @m {", kind: .unexpectedToken, at: 2, 1,
                    message: "expected 'module' to start the module, found 'modul'")
        expectError(replacing: "    return %2\n  }\n}\n", with: "    return %2\n  }\n}\n}\n", kind: .unexpectedToken, at: 21, 1,
                    message: "expected end of file after the module's closing '}', found '}'")
        expectError(replacing: "{eps = 1e-06}", with: "{eps = 1e-06 x = 2}", kind: .unexpectedToken, at: 16, 42,
                    message: "expected '}' or ',' in attribute list, found 'x'")
    }

    func testUnknownOp() {
        expectError(replacing: "%1 = rms_norm", with: "%1 = layer_norm", kind: .unknownOp, at: 16, 10,
                    message: "unknown op 'layer_norm'; expected one of embed, rms_norm, linear, rope, attention, silu, mul, add, qkv_rope, attention_qkv, swiglu")
    }

    func testUndefinedAndRedefinedValues() {
        expectError(replacing: "%2 = linear %1,", with: "%2 = linear %7,", kind: .undefinedValue, at: 17, 17,
                    message: "use of undefined value %7")
        expectError(replacing: "return %2", with: "return %3", kind: .undefinedValue, at: 18, 12,
                    message: "return of undefined value %3")
        expectError(replacing: "%2 = linear", with: "%1 = linear", kind: .redefinedValue, at: 17, 5,
                    message: "value %1 defined twice (first at bad.pir:16:5)")
        expectError(replacing: "%1 = rms_norm %0,", with: "%1 = rms_norm %1,", kind: .undefinedValue, at: 16, 19,
                    message: "use of undefined value %1")
    }

    func testBadTypeSyntax() {
        expectError(replacing: "tensor<?x2xf32>", with: "tensor<?x2xf33>", kind: .badType, at: 15, 47,
                    message: "bad type 'tensor<?x2xf33>': expected an element type (f32, f16, bf16, i32) after the last 'x', found 'f33'")
        expectError(replacing: "tensor<?x2xf32>", with: "tensor<?xtwoxf32>", kind: .badType, at: 15, 45,
                    message: "bad type 'tensor<?xtwoxf32>': expected a dimension (a non-negative integer or '?'), found 'two'")
        expectError(replacing: "tensor<?x2xf32>", with: "tensor<?x2xf32", kind: .badType, at: 15, 36,
                    message: "unterminated tensor type: expected '>'")
        expectError(replacing: ": tensor<4x2xf32> = load", with: ": tensor<?x2xf32> = load", kind: .badType, at: 11, 20,
                    message: "parameter @tok.emb must have a static shape; '?' is only for activations")
        expectError(replacing: "-> tensor<?x4xf32>", with: "-> tensor<?x5xf32>", kind: .badType, at: 14, 44,
                    message: "function @forward is declared to return tensor<?x5xf32> but returns %2 of type tensor<?x4xf32>")
        expectError(replacing: ": tensor<?x2xf32>\n    %1", with: ": i32\n    %1", kind: .unexpectedToken, at: 15, 36,
                    message: "expected a tensor type like tensor<?x8xf32>, found 'i32'")
    }

    func testUnterminatedStringAndBadEscapes() {
        expectError(replacing: "\"llama\"", with: "\"llama", kind: .unterminatedString, at: 4, 20,
                    message: "unterminated string literal: expected '\"' before the end of the line")
        expectError(replacing: "\"llama\"", with: "\"lla\\qma\"", kind: .badLiteral, at: 4, 24,
                    message: "unknown escape '\\q' in string; use \\\", \\\\, \\n, \\t, \\r or \\u{XX}")
        expectError(replacing: "\"llama\"", with: "\"\\u{zz}\"", kind: .badLiteral, at: 4, 21,
                    message: "bad escape '\\u{zz}': expected 1 to 6 hex digits naming a Unicode scalar and '}'")
    }

    func testBadLiterals() {
        expectError(replacing: "size = 4", with: "size = 99999999999999999999", kind: .badLiteral, at: 9, 26,
                    message: "integer literal 99999999999999999999 is out of range")
        expectError(replacing: "[4, 2]", with: "[4, 2x]", kind: .badLiteral, at: 11, 61, message: "malformed number '2x...'")
        expectError(replacing: "[4, 2]\n", with: "[4, 2] | rows([3..1])\n", kind: .badLiteral, at: 11, 72,
                    message: "index range 3..1 is empty: write ranges low..high")
        expectError(replacing: "[4, 2]\n", with: "[4, 2] | transpose()\n", kind: .unexpectedToken, at: 11, 66,
                    message: "unknown view 'transpose'; expected rows, cols, unpermute_rope, append_rows, scale_cols or quantize")
        expectError(replacing: "[4, 2]\n", with: "[4, 2] | quantize(q3_k)\n", kind: .unexpectedToken, at: 11, 75,
                    message: "quantize(q3_k): unknown format; expected one of f16, q4_0, q4_1, q8_0")
        expectError(replacing: "@norm {eps", with: "@norm {eps = 1, eps", kind: .duplicate, at: 16, 39,
                    message: "attribute 'eps' given twice")
    }

    func testMissingAndDuplicateSections() {
        expectError(replacing: "  vocabulary bpe {size = 4, merges = 0, pre_tokenizer = \"gpt2\"}\n", with: "", kind: .missing, at: 19, 1,
                    message: "module has no 'vocabulary' declaration")
        expectError(replacing: "merges = 0, ", with: "", kind: .missing, at: 9, 3, message: "vocabulary declaration lacks merges")
        expectError(replacing: "  metadata {", with: "  metadata {}\n  metadata {", kind: .duplicate, at: 4, 3,
                    message: "second 'metadata' section; a module has one")
        XCTAssertEqual(parseError("module @m { metadata {} vocabulary bpe {size = 1, merges = 0, pre_tokenizer = \"x\"} }")?.kind, .missing)
    }

    func testVersionHeader() {
        let e = parseError(good.replacingOccurrences(of: "// pare ir v1", with: "// pare ir v2"))
        XCTAssertEqual(e?.kind, .unsupportedVersion)
        XCTAssertEqual(e?.localizedDescription,
                       "bad.pir:1:1: error: unsupported IR text version 'v2'; this Pare reads '// pare ir v1'")
    }

    func testUnexpectedCharacterAndEmptyInput() {
        expectError(replacing: "%0 = embed", with: "%0 = embed $", kind: .unexpectedToken, at: 15, 16, message: "unexpected character '$'")
        XCTAssertEqual(parseError("")?.localizedDescription, "bad.pir:1:1: error: expected 'module' to start the module, found end of file")
        let truncated = good.split(separator: "\n").prefix(8).joined(separator: "\n")
        XCTAssertEqual(parseError(truncated)?.localizedDescription,
                       "bad.pir:8:4: error: expected 'metadata', 'vocabulary', 'block', 'param', 'func' or '}', found end of file")
    }

    func testErrorAsDiagnostic() {
        let e = parseError("module")
        XCTAssertEqual(e?.diagnostic.description, "bad.pir:1:7: error: expected the module name, e.g. @\"SmolLM2-135M-Instruct\", found end of file")
    }
}
