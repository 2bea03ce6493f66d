// Reads a GGUF file written by gguf-py's GGUFWriter (all 13 tensor types, every metadata value type)
// and checks it against the sidecar the writer's inputs produced (Fixtures/gguf/all-types.json).
import Foundation
import XCTest
import PareCheckpoint

final class GGUFFileTests: XCTestCase {
    private var path: String { GGUFPaths.fixtures.appendingPathComponent("all-types.gguf").path }

    private func sidecar() throws -> [String: Any] {
        let data = try Data(contentsOf: GGUFPaths.fixtures.appendingPathComponent("all-types.json"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The sidecar's typed JSON value as a `GGUFValue`.
    private func expected(_ json: Any) throws -> GGUFValue {
        let d = try XCTUnwrap(json as? [String: Any])
        let type = try XCTUnwrap(d["type"] as? Int), v = d["value"]
        let s = v as? String ?? ""
        switch type {
        case 0: return .uint8(try XCTUnwrap(UInt8(s)))
        case 1: return .int8(try XCTUnwrap(Int8(s)))
        case 2: return .uint16(try XCTUnwrap(UInt16(s)))
        case 3: return .int16(try XCTUnwrap(Int16(s)))
        case 4: return .uint32(try XCTUnwrap(UInt32(s)))
        case 5: return .int32(try XCTUnwrap(Int32(s)))
        case 6: return .float32(Float(bitPattern: try XCTUnwrap(UInt32(s, radix: 16))))
        case 7: return .bool(try XCTUnwrap(v as? Bool))
        case 8: return .string(s)
        case 9: return .array(try XCTUnwrap(v as? [Any]).map(expected))
        case 10: return .uint64(try XCTUnwrap(UInt64(s)))
        case 11: return .int64(try XCTUnwrap(Int64(s)))
        case 12: return .float64(Double(bitPattern: try XCTUnwrap(UInt64(s, radix: 16))))
        default: throw CheckpointError.unknownValueType(path: "all-types.json", key: "", type: type)
        }
    }

    func testHeaderAndMetadataMatchTheWriter() throws {
        let f = try GGUFFile(path: path)
        let want = try sidecar()
        XCTAssertEqual(f.version, want["version"] as? Int)
        XCTAssertEqual(f.alignment, 64)
        XCTAssertEqual(f.dataOffset % 64, 0)
        let meta = try XCTUnwrap(want["metadata"] as? [[Any]])
        XCTAssertEqual(f.metadataKeys, meta.map { $0[0] as? String ?? "" })
        XCTAssertEqual(f.metadata.count, meta.count)
        var typesSeen = Set<Int>()
        for pair in meta {
            let key = try XCTUnwrap(pair[0] as? String)
            let value = try expected(pair[1])
            XCTAssertEqual(f.metadata[key], value, key)
            typesSeen.insert(value.typeCode)
        }
        XCTAssertEqual(typesSeen, Set(0...12), "the fixture must hold every value type")
    }

    func testValueAccessors() throws {
        let m = try GGUFFile(path: path).metadata
        XCTAssertEqual(m["test.uint8"]?.int, 200)
        XCTAssertEqual(m["test.int64"]?.int, -9_000_000_000_000_000_000)
        XCTAssertNil(m["test.uint64"]?.int, "2^64-1 does not fit an Int")
        XCTAssertEqual(m["test.uint64"]?.double, 18_446_744_073_709_551_615.0)
        XCTAssertEqual(m["test.float32"]?.double, Double(Float(0.1)))
        XCTAssertEqual(m["test.float64"]?.double, 2.718281828459045)
        XCTAssertNil(m["test.string"]?.int)
        XCTAssertEqual(m["test.string"]?.string, "héllo, 世界 ✓")
        XCTAssertEqual(m["test.bool.true"]?.bool, true)
        XCTAssertEqual(m["test.bool.false"]?.bool, false)
        XCTAssertNil(m["test.uint8"]?.bool)
        XCTAssertEqual(m["test.array.string"]?.strings, ["a", "", "Ġhello", "<|endoftext|>"])
        XCTAssertEqual(m["test.array.int32"]?.ints, [1, -2, 3])
        XCTAssertNil(m["test.array.string"]?.ints)
        XCTAssertNil(m["test.array.int32"]?.strings)
        let nested = try XCTUnwrap(m["test.array.nested"]?.array)
        XCTAssertEqual(nested.map { $0.ints ?? [] }, [[1, 2], [3], [4, 5, 6]])
        XCTAssertNil(m["test.array.nested"]?.ints)
        XCTAssertEqual(m["test.array.nested.strings"]?.array?.compactMap(\.strings), [["x", "y"], ["z"]])
    }

    /// Tensor infos, raw bytes and dequantised values of all 13 types.
    func testTensorsMatchTheDequantFixtures() throws {
        let f = try GGUFFile(path: path)
        let want = try XCTUnwrap(try sidecar()["tensors"] as? [[String: Any]])
        XCTAssertEqual(f.tensorInfos.map(\.name), want.map { $0["name"] as? String ?? "" })
        let dir = GGUFPaths.fixtures.appendingPathComponent("dequant")
        for t in want {
            let name = try XCTUnwrap(t["name"] as? String), enc = try XCTUnwrap(t["encoding"] as? String)
            let info = try XCTUnwrap(f.info(name))
            XCTAssertEqual(info, TensorInfo(name: name, encoding: enc, shape: try XCTUnwrap(t["shape"] as? [Int])))
            XCTAssertEqual(f.ggmlType(name)?.name, enc)
            let raw = try f.rawBytes(name)
            XCTAssertEqual([UInt8](raw), [UInt8](try Data(contentsOf: dir.appendingPathComponent(enc + ".bin"))), name)
            XCTAssertEqual(Int(bitPattern: raw.baseAddress) % 64, 0, "\(name) data is not 64-aligned")
            let cmp = FloatComparison(try f.readFloat32(name), try readFloats(dir.appendingPathComponent(enc + ".f32")))
            XCTAssertTrue(cmp.ok, "\(name): \(cmp)")
        }
    }

    /// Version 2 has the same layout: the same bytes with version 2 read identically.
    func testVersion2ReadsTheSame() throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[4] = 2
        let scratch = try GGUFScratchDirectory()
        let v2 = try GGUFFile(path: try scratch.write(bytes))
        let v3 = try GGUFFile(path: path)
        XCTAssertEqual(v2.version, 2)
        XCTAssertEqual(v2.metadata, v3.metadata)
        XCTAssertEqual(v2.tensorInfos, v3.tensorInfos)
        XCTAssertEqual(try v2.readFloat32("t.q4_k"), try v3.readFloat32("t.q4_k"))
    }

    func testMissingTensorAndWrongDestinationSize() throws {
        let f = try GGUFFile(path: path)
        XCTAssertThrowsError(try f.readFloat32("nope")) {
            XCTAssertEqual($0 as? CheckpointError, .missingTensor(path: path, tensor: "nope"))
        }
        XCTAssertThrowsError(try f.rawBytes("nope"))
        XCTAssertNil(f.info("nope"))
        var small = [Float](repeating: 0, count: 10)
        try small.withUnsafeMutableBufferPointer { out in
            XCTAssertThrowsError(try f.readFloat32("t.q8_0", into: out)) { e in
                guard case .shapeMismatch(_, "t.q8_0", _)? = e as? CheckpointError else { return XCTFail("\(e)") }
            }
        }
    }
}
