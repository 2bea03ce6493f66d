// Checks the GGUF reader on the two real models against facts gguf-py recorded (real-models.json).
import Foundation
import XCTest
import PareCheckpoint

final class GGUFRealModelTests: XCTestCase {
    private static let models = ["SmolLM2-135M-Instruct.Q4_1.gguf", "Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf"]

    private func facts(_ model: String) throws -> [String: Any] {
        let data = try Data(contentsOf: GGUFPaths.fixtures.appendingPathComponent("real-models.json"))
        let all = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try XCTUnwrap(all[model] as? [String: Any], "real-models.json has no entry for \(model)")
    }

    /// Metadata keys, their order and types, scalar values, array lengths, tensor count and data offset.
    func testMetadataMatchesGGUFPy() throws {
        for model in Self.models {
            let f = try GGUFFile(path: try GGUFPaths.model(model))
            let facts = try facts(model)
            let keys = try XCTUnwrap(facts["metadata"] as? [[String: Any]])
            XCTAssertEqual(f.metadataKeys, keys.map { $0["key"] as? String ?? "" }, model)
            XCTAssertEqual(f.tensorInfos.count, facts["tensor_count"] as? Int, model)
            XCTAssertEqual(f.alignment, facts["alignment"] as? Int, model)
            XCTAssertEqual(f.dataOffset, facts["data_offset"] as? Int, model)
            XCTAssertEqual(f.version, 3, model)
            for k in keys {
                let key = try XCTUnwrap(k["key"] as? String)
                let types = try XCTUnwrap(k["types"] as? [Int])
                let v = try XCTUnwrap(f.metadata[key], key)
                XCTAssertEqual(v.typeCode, types[0], key)
                switch v {
                case let .array(a):
                    XCTAssertEqual(a.count, k["count"] as? Int, key)
                    XCTAssertEqual(a.first?.typeCode, types[1], key)
                    if let s = k["first"] as? String, types[1] == 8 { XCTAssertEqual(a.first?.string, s, key) }
                case let .string(s): XCTAssertEqual(s, k["value"] as? String, key)
                case let .float32(x): XCTAssertEqual(Double(x), k["value"] as? Double, key)
                case let .bool(b): XCTAssertEqual(b, k["value"] as? Bool, key)
                default: XCTAssertEqual(v.int.map(String.init), k["value"] as? String, key)
                }
            }
        }
    }

    /// First and last 64 values of a few tensors of every type present, exactly; whole-tensor sums.
    func testDequantisedValuesMatchGGUFPy() throws {
        for model in Self.models {
            let f = try GGUFFile(path: try GGUFPaths.model(model))
            let samples = try XCTUnwrap(try facts(model)["samples"] as? [[String: Any]])
            XCTAssertGreaterThanOrEqual(samples.count, 5)
            for s in samples {
                let name = try XCTUnwrap(s["name"] as? String)
                let info = try XCTUnwrap(f.info(name), name)
                XCTAssertEqual(info.encoding, s["encoding"] as? String, name)
                XCTAssertEqual(info.shape, s["shape"] as? [Int], name)
                let v = try f.readFloat32(name)
                let first = try XCTUnwrap(s["first"] as? [Double]).map(Float.init)
                let last = try XCTUnwrap(s["last"] as? [Double]).map(Float.init)
                let c1 = FloatComparison(Array(v.prefix(64)), first), c2 = FloatComparison(Array(v.suffix(64)), last)
                XCTAssertTrue(c1.ok, "\(model) \(name) first 64: \(c1)")
                XCTAssertTrue(c2.ok, "\(model) \(name) last 64: \(c2)")
                let sum = v.reduce(0.0) { $0 + Double($1) }, absSum = v.reduce(0.0) { $0 + Double(abs($1)) }
                let wantSum = try XCTUnwrap(s["sum"] as? Double), wantAbs = try XCTUnwrap(s["abs_sum"] as? Double)
                XCTAssertEqual(sum, wantSum, accuracy: 1e-6 * max(wantAbs, 1), "\(model) \(name) sum")
                XCTAssertEqual(absSum, wantAbs, accuracy: 1e-6 * max(wantAbs, 1), "\(model) \(name) |sum|")
            }
        }
    }

    /// Every tensor of both models dequantises to finite values (speed is measured by `pare bench`, not here).
    func testWholeModelsDequantise() throws {
        for model in Self.models {
            let f = try GGUFFile(path: try GGUFPaths.model(model))
            let largest = f.tensorInfos.map(\.count).max() ?? 0
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: largest)
            defer { buffer.deallocate() }
            for t in f.tensorInfos {
                let out = UnsafeMutableBufferPointer(rebasing: buffer[0..<t.count])
                try f.readFloat32(t.name, into: out)
                XCTAssertTrue(out.allSatisfy(\.isFinite), "\(model): \(t.name) has non-finite values")
            }
        }
    }
}
