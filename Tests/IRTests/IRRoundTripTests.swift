// Round trips: parse(print(m)) == m (after canonical renumbering) and print(parse(print(m))) == print(m).
import XCTest
import PareIR

final class IRRoundTripTests: XCTestCase {
    func assertRoundTrip(_ m: Module, file: StaticString = #filePath, line: UInt = #line) throws {
        let text = printModule(m)
        let parsed = try parseModule(text, file: "rt.pir")
        XCTAssertEqual(parsed, m.canonicalized(), "parse(print(m)) != m", file: file, line: line)
        XCTAssertEqual(printModule(parsed), text, "print(parse(print(m))) != print(m)", file: file, line: line)
    }

    func testTinyModels() throws {
        for m in [tinyModule(), tinyModule(blocks: 1, tied: true, qkvBias: true), tinyModule(blocks: 3, tied: false, qkvBias: true)] {
            XCTAssertEqual(verify(m), [], "the tiny model is valid")
            try assertRoundTrip(m)
            XCTAssertEqual(try parseModule(printModule(m), file: "rt.pir"), m, "tiny models already use canonical numbering")
        }
    }

    func testParsedOpsCarryTheirLocation() throws {
        let m = try parseModule(printModule(tinyModule(blocks: 1)), file: "x.pir")
        let op = try XCTUnwrap(m.function.ops.first)
        XCTAssertEqual(op.location, SourceLocation(file: "x.pir", line: 32, column: 5))
        XCTAssertEqual(m.function.ops.last?.location?.line, 50)
    }

    func testAttributeValuesRoundTripExactly() throws {
        var rng = SystemRandomNumberGenerator()
        var values: [Attribute] = [.int(0), .int(-1), .int(Int.max), .int(Int.min), .float(0), .float(-0.0), .float(1e-5),
                                   .float(1e-300), .float(.leastNonzeroMagnitude), .float(.greatestFiniteMagnitude), .float(.infinity),
                                   .float(-.infinity), .float(1), .float(-2.5), .float(1e16), .float(123456789.0),
                                   .bool(true), .bool(false), .string(""), .string("a \"b\" \\ c\n\t\r\u{0}\u{7f}\u{1b} é 漢 🙂")]
        for _ in 0..<200 { values.append(.float(Double(bitPattern: rng.next()))) }
        values = values.filter { $0.doubleValue.map { !$0.isNaN } ?? true }
        var m = IRPrinterTests.minimal()
        for (i, v) in values.enumerated() { m.metadata.append(("k\(i)", v)) }
        try assertRoundTrip(m)
        let parsed = try parseModule(printModule(m), file: "rt.pir")
        for (a, b) in zip(parsed.metadata, m.metadata) {
            if case .float(let x) = a.value, case .float(let y) = b.value {
                XCTAssertEqual(x.bitPattern, y.bitPattern, "\(a.key): \(x) vs \(y)")
            }
        }
    }

    func testNamesThatNeedQuoting() throws {
        var m = IRPrinterTests.minimal()
        m.name = "my model/v2 (instruct)"
        m.parameters[1].name = "weird name:with@symbols"
        m.function.ops[1].operands[1] = .param("weird name:with@symbols")
        m.function.arguments[0].name = "token ids"
        m.metadata.append(("key with spaces", .string("v")))
        m.metadata.append(("1starts.with.digit", .int(1)))
        m.vocabulary.specials = [SpecialToken(role: "end of text", id: 3, text: "<|endoftext|>")]
        m.vocabulary.preTokenizer = "qwen2 \"x\""
        m.parameters[0].source.encoding = "q4 k?"
        let text = printModule(m)
        XCTAssertTrue(text.contains("module @\"my model/v2 (instruct)\" {"), text)
        XCTAssertTrue(text.contains("param @\"weird name:with@symbols\" :"), text)
        XCTAssertTrue(text.contains("func @forward(%\"token ids\": tensor<?xi32>)"), text)
        XCTAssertTrue(text.contains("\"1starts.with.digit\" = 1"), text)
        XCTAssertTrue(text.contains("special \"end of text\" = 3 \"<|endoftext|>\""), text)
        try assertRoundTrip(m)
    }

    func testNonCanonicalNamesAreRenumbered() throws {
        let text = printModule(IRPrinterTests.minimal())
            .replacingOccurrences(of: "%0", with: "%emb").replacingOccurrences(of: "%1", with: "%h.final")
            .replacingOccurrences(of: "%2", with: "%logits")
        XCTAssertTrue(text.contains("%h.final = rms_norm %emb"))
        let m = try parseModule(text, file: "n.pir")
        XCTAssertEqual(printModule(m), printModule(IRPrinterTests.minimal()))
        XCTAssertEqual(m, IRPrinterTests.minimal())
    }

    func testWhitespaceAndLayoutAreFree() throws {
        let canonical = printModule(IRPrinterTests.minimal())
        let squashed = canonical.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "  ", with: " ")
            .replacingOccurrences(of: "// pare ir v1", with: "")
        XCTAssertEqual(printModule(try parseModule(squashed, file: "s.pir")), canonical)
    }

    func testLargeIdMapAndViews() throws {
        var m = tinyModule(blocks: 1)
        let kept = (0..<50000).filter { $0 % 7 != 3 }
        m.vocabulary.idMap = IndexList(kept)
        m.vocabulary.sourceSize = 50000
        m.parameters[0].source.shape = [50000, 8]
        m.parameters[0].views = [.rows(IndexList(kept))]
        try assertRoundTrip(m)
    }
}
