// Checks every dequantisation kernel bit-for-bit against values gguf-py computed (Fixtures/gguf/dequant).
import Foundation
import XCTest
import PareCheckpoint

final class GGUFDequantTests: XCTestCase {
    private struct Case { var type: GGMLType; var shape: [Int]; var raw: [UInt8]; var want: [Float]; var block: Int; var size: Int }

    private func cases() throws -> [String: Case] {
        let dir = GGUFPaths.fixtures.appendingPathComponent("dequant")
        let index = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("index.json"))) as? [String: [String: Any]])
        var out = [String: Case]()
        for (name, entry) in index {
            let type = try XCTUnwrap(GGMLType(rawValue: try XCTUnwrap(entry["ggml"] as? Int)), name)
            out[name] = Case(type: type, shape: try XCTUnwrap(entry["shape"] as? [Int]),
                             raw: [UInt8](try Data(contentsOf: dir.appendingPathComponent(name + ".bin"))),
                             want: try readFloats(dir.appendingPathComponent(name + ".f32")),
                             block: try XCTUnwrap(entry["block_size"] as? Int), size: try XCTUnwrap(entry["type_size"] as? Int))
        }
        return out
    }

    private func dequantize(_ c: Case, _ raw: [UInt8], threads: Int) throws -> [Float] {
        try [Float](unsafeUninitializedCapacity: c.want.count) { out, n in
            try raw.withUnsafeBytes { try GGMLDequantizer.dequantize(c.type, $0, into: out, threads: threads) }
            n = c.want.count
        }
    }

    /// All 13 types, one and two threads, bit-identical to gguf-py.
    func testAllThirteenTypesMatchGGUFPyExactly() throws {
        let all = try cases()
        XCTAssertEqual(Set(all.keys), ["f32", "f16", "bf16", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0",
                                       "q2_k", "q3_k", "q4_k", "q5_k", "q6_k"])
        for (name, c) in all.sorted(by: { $0.key < $1.key }) {
            XCTAssertEqual(c.type.name, name)
            XCTAssertTrue(c.type.isDequantizable, name)
            XCTAssertEqual(c.want.count, c.shape.reduce(1, *), name)
            for threads in [1, 2] {
                let cmp = FloatComparison(try dequantize(c, c.raw, threads: threads), c.want)
                XCTAssertTrue(cmp.ok, "\(name) threads=\(threads): \(cmp)")
            }
        }
    }

    /// Block sizes and byte sizes agree with gguf-py's GGML_QUANT_SIZES.
    func testBlockLayoutsMatchGGUFPy() throws {
        for (name, c) in try cases() {
            XCTAssertEqual(c.type.blockSize, c.block, name)
            XCTAssertEqual(c.type.typeSize, c.size, name)
            XCTAssertEqual(c.raw.count, c.want.count / c.block * c.size, name)
        }
        XCTAssertEqual(GGMLType.q8_k.typeSize, 292)
        XCTAssertEqual(GGMLType.iq4_xs.typeSize, 136)
        XCTAssertNil(GGMLType(rawValue: 4))
        XCTAssertNil(GGMLType(rawValue: 31))
        XCTAssertEqual(GGMLType.q4_k.byteCount(elements: 512), 288)
        XCTAssertNil(GGMLType.q4_k.byteCount(elements: 100))
    }

    /// The comparison is not vacuous: a changed quant or scale byte is caught.
    func testComparisonCatchesACorruptedBlock() throws {
        let all = try cases()
        for name in ["q4_k", "q6_k", "q5_0", "q3_k"] {
            let c = try XCTUnwrap(all[name])
            var raw = c.raw
            raw[c.size / 2] ^= 0x11 // inside the first block's quants
            let cmp = FloatComparison(try dequantize(c, raw, threads: 1), c.want)
            XCTAssertFalse(cmp.ok, "\(name): a corrupted byte went unnoticed")
            XCTAssertTrue(cmp.mismatches >= 1 && cmp.mismatches <= c.block, "\(name): \(cmp)")
        }
        var near = try XCTUnwrap(all["f32"]).want
        near[3] = near[3].nextUp
        XCTAssertFalse(FloatComparison(near, try XCTUnwrap(all["f32"]).want).ok)
    }

    func testSizeMismatchAndUnsupportedTypesThrow() throws {
        let raw = [UInt8](repeating: 0, count: 34)
        var out = [Float](repeating: 0, count: 31)
        try out.withUnsafeMutableBufferPointer { o in
            try raw.withUnsafeBytes { r in
                XCTAssertThrowsError(try GGMLDequantizer.dequantize(.q8_0, r, into: o)) { e in
                    guard case .malformed = e as? CheckpointError else { return XCTFail("\(e)") }
                }
                XCTAssertThrowsError(try GGMLDequantizer.dequantize(.iq2_xxs, r, into: o)) { e in
                    guard case .unsupported = e as? CheckpointError else { return XCTFail("\(e)") }
                }
            }
        }
    }
}
