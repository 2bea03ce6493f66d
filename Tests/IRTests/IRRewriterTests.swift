// The rewriter: every mutation a pass may make, its change tracking, and its refusals.
import XCTest
import PareIR

final class IRRewriterTests: XCTestCase {
    /// The value of op `i` of the tiny module.
    func value(_ m: Module, _ i: Int) -> Value { m.function.ops[i].result }

    func testQueries() {
        let m = tinyModule(blocks: 1)
        let r = Rewriter(m)
        let norm = value(m, 1)
        XCTAssertEqual(r.uses(of: norm).map(\.kind), [.linear, .linear, .linear])
        XCTAssertEqual(r.definingOp(of: norm)?.kind, .rmsNorm)
        XCTAssertNil(r.definingOp(of: Value(0)), "the argument has no defining op")
        XCTAssertEqual(r.index(of: norm), 1)
        XCTAssertTrue(r.isUsed(m.function.result), "the returned value is used")
        XCTAssertEqual(r.users(ofParameter: "token_embd.weight").map(\.kind), [.embed])
        XCTAssertFalse(r.changed)
    }

    func testReplaceAllUsesBypassesABlock() throws {
        // Bypass block 1: its output's readers read block 0's output instead; then erase block 1's ops backwards.
        let m = tinyModule(blocks: 2)
        var r = Rewriter(m)
        let block0Out = value(m, 16), block1Out = value(m, 32)
        XCTAssertEqual(r.replaceAllUses(of: block1Out, with: block0Out), 1)
        XCTAssertTrue(r.changed)
        XCTAssertEqual(r.uses(of: block1Out), [])
        for op in m.function.ops.reversed() where op.block == 1 { try r.erase(op.result) }
        for p in m.parameters where p.name.hasPrefix("blk.1.") { try r.removeParameter(p.name) }
        r.setBlocks(Array(r.module.blocks.prefix(1)))
        XCTAssertEqual(verify(r.module), [])
        XCTAssertEqual(r.module.function.ops.count, 19)
        XCTAssertEqual(printModule(r.module), printModule(tinyModule(blocks: 1)), "bypassing block 1 leaves the one-block model")
    }

    func testReplaceAllUsesUpdatesTheReturn() {
        let m = tinyModule(blocks: 1)
        var r = Rewriter(m)
        XCTAssertEqual(r.replaceAllUses(of: m.function.result, with: value(m, 0)), 1)
        XCTAssertEqual(r.module.function.result, value(m, 0))
        var same = Rewriter(m)
        XCTAssertEqual(same.replaceAllUses(of: value(m, 3), with: value(m, 3)), 0)
        XCTAssertFalse(same.changed)
    }

    func testEraseRefusesUsedValues() {
        let m = tinyModule(blocks: 1)
        var r = Rewriter(m)
        XCTAssertThrowsError(try r.erase(value(m, 1))) { XCTAssertEqual($0 as? RewriteError, .stillUsed(value(m, 1), users: 3)) }
        XCTAssertThrowsError(try r.erase(m.function.result)) { XCTAssertEqual($0 as? RewriteError, .stillUsed(m.function.result, users: 1)) }
        XCTAssertThrowsError(try r.erase(Value(999))) { XCTAssertEqual($0 as? RewriteError, .noSuchOp(Value(999))) }
        XCTAssertFalse(r.changed)
        XCTAssertEqual(RewriteError.stillUsed(Value(3), users: 2).localizedDescription,
                       "rewriter: cannot erase the op defining %v3: it still has 2 uses")
    }

    func testInsertBeforeAndUpdateOp() throws {
        // Insert a scale-free extra norm before the LM head and route the head through it.
        let m = tinyModule(blocks: 1)
        var r = Rewriter(m)
        let finalNorm = value(m, 17), head = value(m, 18)
        let extra = try r.insert(.rmsNorm, [.value(finalNorm), .param("output_norm.weight")], ["eps": .float(1e-6)],
                                 type: .activations(Tiny.hidden), before: head)
        XCTAssertEqual(extra, Value(m.function.nextValueID), "fresh value")
        XCTAssertEqual(r.index(of: extra), 18)
        try r.updateOp(head) { $0.operands[0] = .value(extra) }
        XCTAssertEqual(verify(r.module), [])
        XCTAssertTrue(printModule(r.module).contains("%18 = rms_norm %17, @output_norm.weight {eps = 1e-06} : tensor<?x8xf32>\n    %19 = linear %18, @output.weight"))
        XCTAssertThrowsError(try r.updateOp(head) { $0.result = Value(12345) }) { XCTAssertEqual($0 as? RewriteError, .resultChanged(head)) }
        XCTAssertThrowsError(try r.insert(m.function.ops[0], before: nil)) {
            XCTAssertEqual($0 as? RewriteError, .valueAlreadyDefined(m.function.ops[0].result))
        }
        let next = r.newValue()
        XCTAssertGreaterThan(next.id, extra.id)
    }

    func testUpdateOpWithoutChangeIsNotAChange() throws {
        let m = tinyModule(blocks: 1)
        var r = Rewriter(m)
        try r.updateOp(value(m, 7)) { $0.attributes["kv_slot"] = .int(0) }
        XCTAssertFalse(r.changed)
        try r.updateOp(value(m, 7)) { $0.attributes["kv_slot"] = .int(1) }
        XCTAssertTrue(r.changed)
    }

    func testModuleParts() throws {
        let m = tinyModule(blocks: 1)
        var r = Rewriter(m)
        r.setMetadata(key: "architecture", value: .string("llama"))
        r.setBlocks(m.blocks)
        r.setVocabulary(m.vocabulary)
        r.setParameter(m.parameters[0])
        XCTAssertFalse(r.changed, "setting what is already there changes nothing")

        r.setMetadata(key: "prune.seed", value: .int(7))
        XCTAssertEqual(r.module.metadata.last?.key, "prune.seed")
        r.setMetadata(key: "architecture", value: .string("qwen2"))
        XCTAssertEqual(r.module.metadata.first?.value, .string("qwen2"), "an existing key keeps its place")
        r.setMetadata(key: "prune.seed", value: nil)
        XCTAssertNil(r.module[meta: "prune.seed"])
        XCTAssertTrue(r.changed)

        var p = m.parameters[0]
        p.views = [.rows([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])]
        r.setParameter(p)
        XCTAssertEqual(r.module.parameters[0], p, "replaced in place")
        var q = p
        q.name = "new.weight"
        r.setParameter(q)
        XCTAssertEqual(r.module.parameters.last?.name, "new.weight", "appended")
        try r.removeParameter("new.weight")
        XCTAssertThrowsError(try r.removeParameter("token_embd.weight")) {
            XCTAssertEqual($0 as? RewriteError, .parameterStillUsed("token_embd.weight", users: 1))
        }
        XCTAssertThrowsError(try r.removeParameter("nope")) { XCTAssertEqual($0 as? RewriteError, .noSuchParameter("nope")) }

        var v = m.vocabulary
        v.specials.removeLast()
        r.setVocabulary(v)
        XCTAssertEqual(r.module.vocabulary.specials.count, 1)
    }
}
