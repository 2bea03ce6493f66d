// The pass protocol, registry and runner, and dce on modules built in memory.
import XCTest
import PareIR
import ParePasses

final class IRPassTests: XCTestCase {
    func testRegistry() throws {
        let reg = PassRegistry.standard
        XCTAssertEqual(Set(reg.names), ["dce", "vocab-prune", "layer-prune", "ffn-prune", "quantize", "fuse-qkv", "fuse-gate-up", "fold-norms",
                                        "plan-memory"])
        XCTAssertEqual(reg.names.count, Set(reg.names).count, "a pass is registered twice")
        let dce = try XCTUnwrap(reg.pass(named: "dce"))
        XCTAssertEqual(dce.summary, "Erase ops whose results are unused, then parameters no op reads")
        XCTAssertNil(reg.pass(named: "DCE"))
        for name in reg.names {
            XCTAssertNotNil(name.range(of: "^[a-z0-9]+(-[a-z0-9]+)*$", options: .regularExpression), "\(name) is kebab-case")
        }
    }

    func testDCEOnALiveModuleChangesNothing() throws {
        let m = tinyModule()
        let r = try runPass(DeadCodeElimination(), on: m)
        XCTAssertFalse(r.changed)
        XCTAssertEqual(r.module, m)
        XCTAssertEqual(r.statistics.description, "ops erased = 0, parameters erased = 0, kv slots renumbered = 0")
    }

    func testDCEAfterABypassGivesTheSmallerModel() throws {
        // Bypass block 0 of a 3-block model: dce erases it and renumbers kv slots 1, 2 -> 0, 1.
        let m = tinyModule(blocks: 3)
        var rw = Rewriter(m)
        rw.replaceAllUses(of: m.function.ops[16].result, with: m.function.ops[0].result)
        let stats = try DeadCodeElimination().run(&rw, context: .structural)
        XCTAssertEqual(stats["ops erased"], .int(16))
        XCTAssertEqual(stats["parameters erased"], .int(9))
        XCTAssertEqual(stats["kv slots renumbered"], .int(2))
        XCTAssertEqual(verify(rw.module), [])
        XCTAssertEqual(rw.module.function.ops.filter { $0.kind == .attention }.compactMap { $0.int("kv_slot") }, [0, 1])
        XCTAssertFalse(rw.module.parameters.contains { $0.name.hasPrefix("blk.0.") })
    }

    func testDCEDoesNotEraseTheReturnedValueOrSharedParameters() throws {
        var m = tinyModule(blocks: 1, tied: true)
        // A dead op reading the tied table, and the returned logits with no op reading them.
        let dead = Op(result: Value(m.function.nextValueID), kind: .linear,
                      operands: [.value(m.function.ops[17].result), .param("token_embd.weight")], type: .activations(Tiny.vocab))
        m.function.ops.append(dead)
        let r = try runPass(DeadCodeElimination(), on: m)
        XCTAssertEqual(r.statistics["ops erased"], .int(1))
        XCTAssertEqual(r.statistics["parameters erased"], .int(0))
        XCTAssertEqual(r.module.function.result, m.function.result)
        XCTAssertNotNil(r.module.parameter("token_embd.weight"))
    }

    func testRunPassRejectsInvalidIR() {
        struct Breaker: Pass {
            let name = "break-things"
            let summary = "Points the head at a parameter of the wrong shape"
            func run(_ r: inout Rewriter, context: PassContext) throws -> PassStatistics {
                try r.updateOp(r.module.function.result) { $0.operands[1] = .param("blk.0.ffn_down.weight") }
                return PassStatistics()
            }
        }
        XCTAssertThrowsError(try runPass(Breaker(), on: tinyModule(blocks: 1))) { error in
            guard case PassError.verificationFailed(let pass, let d) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(pass, "break-things")
            XCTAssertFalse(d.isEmpty)
            XCTAssertTrue(error.localizedDescription.hasPrefix("pass 'break-things' produced invalid IR:\n"), error.localizedDescription)
        }
        XCTAssertNoThrow(try runPass(Breaker(), on: tinyModule(blocks: 1), verifyAfter: false))
    }

    func testStatistics() {
        var s = PassStatistics()
        s.add("b", 2)
        s.add("a", .float(0.5))
        s.add("b", 3)
        XCTAssertEqual(s.description, "b = 3, a = 0.5")
        XCTAssertEqual(s.entries.map(\.name), ["b", "a"])
    }
}
