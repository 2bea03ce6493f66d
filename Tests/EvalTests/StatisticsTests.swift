// The exact McNemar test and the stop-sequence matcher.
import PareEval
import XCTest

final class McNemarTests: XCTestCase {
    func testKnownValues() {
        XCTAssertEqual(mcnemarExactP(gained: 0, lost: 0), 1)
        XCTAssertEqual(mcnemarExactP(gained: 5, lost: 5), 1)
        XCTAssertEqual(mcnemarExactP(gained: 2, lost: 0), 0.5, accuracy: 1e-12)  // 2 * (1/4)
        XCTAssertEqual(mcnemarExactP(gained: 1, lost: 3), 0.625, accuracy: 1e-12)  // 2 * (1 + 4) / 16
        XCTAssertEqual(mcnemarExactP(gained: 10, lost: 0), 2.0 / 1024, accuracy: 1e-12)
        XCTAssertEqual(mcnemarExactP(gained: 0, lost: 10), 2.0 / 1024, accuracy: 1e-12, "symmetric")
        // 3 vs 14: 2 * sum_{i<=3} C(17, i) / 2^17 = 2 * (1 + 17 + 136 + 680) / 131072.
        XCTAssertEqual(mcnemarExactP(gained: 3, lost: 14), 2 * 834.0 / 131072, accuracy: 1e-12)
    }

    func testLargeCountsStayFiniteAndOrdered() {
        let p = mcnemarExactP(gained: 400, lost: 500)
        XCTAssertTrue(p > 0 && p < 0.01, "\(p)")
        XCTAssertLessThan(mcnemarExactP(gained: 380, lost: 520), p)
    }

    /// The issue's point: a 2-problem difference out of 164 is no finding.
    func testTwoProblemsIsNotAFinding() {
        XCTAssertGreaterThan(mcnemarExactP(gained: 4, lost: 6), 0.5)
    }
}

final class StopMatcherTests: XCTestCase {
    func testStopAcrossPieces() {
        var m = StopMatcher(EvalProtocol.codexStops)
        XCTAssertFalse(m.push("    return x\n"))
        XCTAssertFalse(m.push("\n\nd"))
        XCTAssertTrue(m.push("ef g():"))
        XCTAssertEqual(m.completion, "    return x\n\n")
    }

    func testEarliestStopWins() {
        var m = StopMatcher(["\ndef", "\nif"])
        XCTAssertTrue(m.push("a\nif b\ndef c"))
        XCTAssertEqual(m.completion, "a")
    }

    func testNoStopKeepsEverything() {
        var m = StopMatcher(EvalProtocol.codexStops)
        for piece in ["    if x:", "\n        print(x)", "\n    return 1"] { XCTAssertFalse(m.push(piece)) }
        XCTAssertEqual(m.completion, "    if x:\n        print(x)\n    return 1", "indented if/print are not stops")
        var none = StopMatcher([])
        XCTAssertFalse(none.push("\ndef f"))
        XCTAssertEqual(none.completion, "\ndef f")
    }

    func testStopAtTheVeryStart() {
        var m = StopMatcher(["\n#"])
        XCTAssertTrue(m.push("\n# comment"))
        XCTAssertEqual(m.completion, "")
    }
}
