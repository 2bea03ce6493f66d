// Numeric parity of the runtime: fused vs unfused plans vs a naive reference; chunked prefill vs one-shot vs decode.
import ParePlan
import PareRuntime
import XCTest

final class RuntimeForwardTests: XCTestCase {
    let model = ToyModel()

    func testFusedAndUnfusedPlansMatchTheReference() throws {
        let tokens = ToyModel.tokens(12, seed: 1)
        let reference = model.referenceLogits(tokens)
        let fused = try makeRuntime(ToyPlans.fused(model)).makeSession().forward(tokens, allLogits: true)
        let unfused = try makeRuntime(ToyPlans.unfused(model)).makeSession().forward(tokens, allLogits: true)
        XCTAssertEqual(fused.count, 12 * 50)
        for (name, actual, expected) in [("fused vs unfused", fused, unfused), ("fused vs reference", fused, reference),
                                         ("unfused vs reference", unfused, reference)] {
            let c = Comparison(actual, expected)
            print("\(name): \(c)")
            XCTAssertTrue(c.ok, "\(name): \(c)")
        }
    }

    /// The comparison is sensitive: a fused plan whose norm weights were not folded must fail it.
    func testComparisonRejectsAPlanWithoutFoldedNorms() throws {
        let tokens = ToyModel.tokens(12, seed: 1)
        let broken = try makeRuntime(ToyPlans.fused(model, foldNorms: false)).makeSession().forward(tokens, allLogits: true)
        let c = Comparison(broken, model.referenceLogits(tokens))
        print("unfolded norms vs reference (must be NOT OK): \(c)")
        XCTAssertFalse(c.ok, "a plan that ignores the norm weights matched the reference: \(c)")
    }

    func testChunkedPrefillMatchesOneShotAndDecode() throws {
        let tokens = ToyModel.tokens(20, seed: 2)
        for build in [{ ToyPlans.fused(self.model, maxRows: $0) }, { ToyPlans.unfused(self.model, maxRows: $0) }] {
            // maxRows 8: chunks of 8, 8, 4.  maxRows 32: one chunk.
            let chunked = try makeRuntime(build(8)).makeSession().forward(tokens, allLogits: true)
            let oneShot = try makeRuntime(build(32)).makeSession().forward(tokens, allLogits: true)
            // Token by token: the decode path (one row, sgemv) for every position.
            let session = try makeRuntime(build(8)).makeSession()
            var decoded: [Float] = []
            for t in tokens { decoded += try session.forward([t]) }
            XCTAssertEqual(session.length, 20)
            for (name, a) in [("chunked", chunked), ("decode", decoded)] {
                let c = Comparison(a, oneShot, tolerance: 1e-5)
                print("\(name) vs one-shot: \(c)")
                XCTAssertTrue(c.ok, "\(name) vs one-shot: \(c)")
            }
            XCTAssertTrue(Comparison(oneShot, model.referenceLogits(tokens)).ok)
        }
    }

    func testLastRowAndContinuationMatchAllLogits() throws {
        let tokens = ToyModel.tokens(20, seed: 3)
        let runtime = try makeRuntime(ToyPlans.fused(model))
        let all = try runtime.makeSession().forward(tokens, allLogits: true)
        // Only the last row (earlier chunks skip the row-wise tail; the last chunk runs it on one row).
        let last = try runtime.makeSession().forward(tokens)
        XCTAssertEqual(last.count, 50)
        XCTAssertTrue(Comparison(last, Array(all[19 * 50 ..< 20 * 50]), tolerance: 1e-5).ok)
        // 13 positions, then the remaining 7 on top of the cache.
        let session = try runtime.makeSession()
        let head = try session.forward(Array(tokens[..<13]), allLogits: true)
        let tail = try session.forward(Array(tokens[13...]), allLogits: true)
        let c = Comparison(head + tail, all, tolerance: 1e-5)
        XCTAssertTrue(c.ok, "continued vs one pass: \(c)")
        // reset() forgets the cache: the same tokens give the same logits again.
        session.reset()
        XCTAssertEqual(session.length, 0)
        XCTAssertTrue(Comparison(try session.forward(tokens, allLogits: true), all, tolerance: 1e-5).ok)
    }
}
