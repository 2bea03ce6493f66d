// The verifier on modules built in memory: SSA violations (the parser cannot express them), entity locations,
// verifyOrThrow. Invariants reachable from text are covered by Golden/verifier/.
import XCTest
import PareIR

final class IRVerifierTests: XCTestCase {
    func errors(_ m: Module) -> [String] { verify(m).filter { $0.severity == .error }.map(\.description) }

    func testValidModulesHaveNoDiagnostics() {
        XCTAssertEqual(verify(tinyModule()), [])
        XCTAssertEqual(verify(tinyModule(blocks: 4, tied: true, qkvBias: true)), [])
        XCTAssertNoThrow(try verifyOrThrow(tinyModule()))
    }

    func testDiagnosticsNameTheOpWhenThereIsNoText() {
        var m = tinyModule()
        m.function.ops[2].type = .activations(5)  // %2 = linear (attn_q) in block 0
        XCTAssertEqual(errors(m).first,
                       "forward: %2 (linear, block 0): error: linear result type tensor<?x5xf32> does not match the computed type tensor<?x8xf32>")
    }

    func testUseBeforeDefinition() {
        var m = tinyModule(blocks: 1)
        m.function.ops.swapAt(1, 2)  // the q projection now precedes the norm it reads
        XCTAssertEqual(errors(m).first, """
        forward: %1 (linear, block 0): error: value %2 is used before its definition
        forward: %2 (rms_norm, block 0): note: defined here
        """)
    }

    func testUndefinedOperandAndReturn() {
        var m = tinyModule(blocks: 1)
        m.function.ops[4].operands[0] = .value(Value(500))
        m.function.result = Value(600)
        XCTAssertEqual(errors(m), [
            "forward: %4 (linear, block 0): error: operand %v500 is never defined",
            "forward: return: error: the returned value %v600 is not defined",
        ])
    }

    func testValueDefinedTwice() {
        var m = tinyModule(blocks: 1)
        m.function.ops[5].result = m.function.ops[4].result  // two ops define the same value
        XCTAssertTrue(errors(m).contains("""
        forward: %5 (rope, block 0): error: value %v5 is defined twice
        forward: %4 (linear, block 0): note: first defined here
        """), "\(errors(m))")
        var n = tinyModule(blocks: 1)
        n.function.ops[0].result = Value(0)  // redefines the argument
        XCTAssertTrue(errors(n).contains { $0.hasPrefix("forward: %0 (embed): error: value %v0 is defined twice") }, "\(errors(n))")
    }

    func testArgumentNames() {
        var m = tinyModule(blocks: 1)
        m.function.arguments[0].name = "0"
        XCTAssertEqual(errors(m), ["forward: argument %0: error: argument name '0' must not be empty or numeric (numbers name op results)"])
    }

    func testEntityLocationsForDeclarations() {
        var m = tinyModule(blocks: 1)
        m.parameters[1].shape = [9]
        m.blocks[0].ffn = 15
        m.metadata.removeFirst()
        m.vocabulary.specials[0].id = 10
        let e = errors(m)
        XCTAssertTrue(e.contains("metadata: error: metadata lacks 'architecture'"), "\(e)")
        XCTAssertTrue(e.contains("vocabulary: special bos: error: special token 'bos' has id 10, outside the vocabulary 0..<10"), "\(e)")
        XCTAssertTrue(e.contains("param @blk.0.attn_norm.weight: error: parameter @blk.0.attn_norm.weight is declared [9] but its source [8] and views give [8]"), "\(e)")
        XCTAssertTrue(e.contains("forward: %13 (silu, block 0): error: silu in block 0 has width 16 but the block's ffn is 15"), "\(e)")
    }

    func testFinalNormMustMatchHidden() {
        // A module whose blocks say hidden 8 but whose embedding, final norm and head are 6 wide.
        var m = IRPrinterTests.minimal()
        m.blocks = [BlockDims(index: 0, hidden: 8, heads: 2, kvHeads: 1, headDim: 4, ffn: 16)]
        XCTAssertEqual(errors(m), [
            "forward: %0 (embed): error: embed table @tok.emb has width 2 but the blocks' hidden is 8",
            "forward: %1 (rms_norm): error: rms_norm outside blocks has width 2 but the blocks' hidden is 8",
        ])
    }

    func testVerifyOrThrowCarriesEveryDiagnostic() {
        var m = tinyModule(blocks: 1)
        m.vocabulary.size = 11
        m.function.ops[5].attributes["unused"] = .int(1)
        XCTAssertThrowsError(try verifyOrThrow(m)) { error in
            guard let e = error as? VerificationError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.errors.count, 2)
            XCTAssertEqual(e.diagnostics.count, 3, "the warning is carried too")
            XCTAssertEqual(e.localizedDescription, """
            IR verification failed with 2 errors:
            forward: %0 (embed): error: embed table @token_embd.weight has 10 rows but the vocabulary has 11 tokens
            forward: %5 (rope, block 0): warning: unknown attribute 'unused' on rope is ignored; rope takes heads, head_dim, theta
            forward: return: error: @forward must return tensor<?x11xf32> (logits over the vocabulary of 11), returns tensor<?x10xf32>
            """)
        }
        var w = tinyModule(blocks: 1)
        w.function.ops[5].attributes["unused"] = .int(1)
        XCTAssertNoThrow(try verifyOrThrow(w), "warnings alone do not make a module invalid")
    }

    func testParsedModulePointsAtText() throws {
        let text = printModule(tinyModule(blocks: 1)).replacingOccurrences(of: "kv_slot = 0", with: "kv_slot = -1")
        let (m, map) = try parseModuleWithSourceMap(text, file: "t.pir")
        XCTAssertEqual(verify(m, sourceMap: map).map(\.description),
                       ["t.pir:39:5: error: attention attribute 'kv_slot' must be non-negative, found -1"])
        XCTAssertEqual(map.parameters.count, m.parameters.count)
        XCTAssertEqual(map.parameters.first, SourceLocation(file: "t.pir", line: 18, column: 3))
    }
}
