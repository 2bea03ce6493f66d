// Broken and hostile GGUF files: every one must give a typed CheckpointError naming the file, never a crash.
import Foundation
import XCTest
import PareCheckpoint

final class GGUFBadInputTests: XCTestCase {
    private var scratch: GGUFScratchDirectory!

    override func setUpWithError() throws { scratch = try GGUFScratchDirectory() }
    override func tearDown() { scratch = nil }

    /// A small valid file: metadata of several types (string array, nested array) and three tensors.
    private func valid() -> GGUFTestWriter {
        var w = GGUFTestWriter()
        w.entries = [
            .value("general.architecture", .string("llama")),
            .value("llama.block_count", .uint32(2)),
            .value("tokenizer.ggml.tokens", .array([.string("a"), .string("bc")])),
            .value("test.nested", .array([.array([.int8(1)]), .array([.int8(2), .int8(3)])])),
            .value("test.f64", .float64(0.5)),
        ]
        var q8 = [UInt8](repeating: 7, count: 68)
        q8[0] = 0x00; q8[1] = 0x3c; q8[34] = 0x00; q8[35] = 0x3c // d = 1.0 in both blocks
        w.tensors = [
            .init(name: "w.q8", ne: [32, 2], type: 8, data: q8),
            .init(name: "w.f32", ne: [3], type: 0, data: [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40]),
            .init(name: "w.f16", ne: [2, 1], type: 1, data: [0x00, 0x3c, 0x00, 0xc0]),
        ]
        return w
    }

    /// Opens `bytes` expecting a CheckpointError whose message names the file; returns it.
    @discardableResult
    private func openError(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws -> CheckpointError? {
        let p = try scratch.write(bytes)
        do {
            _ = try GGUFFile(path: p)
            XCTFail("opened a broken file", file: file, line: line)
            return nil
        } catch let e as CheckpointError {
            XCTAssertTrue(e.errorDescription?.contains(p) == true, "message does not name the file: \(e)", file: file, line: line)
            return e
        } catch {
            XCTFail("untyped error \(error)", file: file, line: line)
            return nil
        }
    }

    private func path(of e: CheckpointError?) -> String {
        guard let e else { return "" }
        switch e {
        case let .badMagic(p, _), let .unsupportedVersion(p, _), let .truncated(p, _), let .unknownTensorType(p, _, _),
             let .unknownValueType(p, _, _), let .dataOutOfBounds(p, _, _, _), let .shapeMismatch(p, _, _),
             let .missingTensor(p, _), let .missingKey(p, _), let .malformed(p, _), let .unsupported(p, _),
             let .cannotOpen(p, _):
            return p
        }
    }

    func testValidFileOpens() throws {
        let f = try GGUFFile(path: try scratch.write(valid().bytes()))
        XCTAssertEqual(f.metadataKeys, ["general.architecture", "llama.block_count", "tokenizer.ggml.tokens", "test.nested", "test.f64"])
        XCTAssertEqual(f.metadata["test.nested"], .array([.array([.int8(1)]), .array([.int8(2), .int8(3)])]))
        XCTAssertEqual(try f.readFloat32("w.f32"), [1, 2, 3])
        XCTAssertEqual(try f.readFloat32("w.f16"), [1, -2])
        XCTAssertEqual(try f.readFloat32("w.q8"), [Float](repeating: 7, count: 64))
        XCTAssertEqual(f.info("w.q8")?.shape, [2, 32])
        XCTAssertEqual(f.info("w.f16")?.shape, [1, 2])
    }

    func testWrongMagic() throws {
        var w = valid()
        w.magic = Array("GGUX".utf8)
        let e = try openError(w.bytes())
        XCTAssertEqual(e, .badMagic(path: path(of: e), found: "\"GGUX\""))
        w.magic = [0x89, 0x50, 0x4e, 0x47]
        let png = try openError(w.bytes())
        XCTAssertEqual(png, .badMagic(path: path(of: png), found: "89 50 4e 47"))
        let empty = try openError([])
        XCTAssertEqual(empty, .truncated(path: path(of: empty), what: "the header (magic)"))
    }

    func testUnsupportedVersions() throws {
        for v: UInt32 in [0, 1, 4, 99] {
            var w = valid()
            w.version = v
            let e = try openError(w.bytes())
            XCTAssertEqual(e, .unsupportedVersion(path: path(of: e), version: Int(v)))
        }
        var w = valid()
        w.version = UInt32(3).byteSwapped // what a big-endian file looks like
        guard case .unsupported? = try openError(w.bytes()) else { return XCTFail("big-endian not reported") }
    }

    /// Every proper prefix of a valid file is reported as truncated (or its data as out of bounds).
    func testEveryPrefixGivesATypedError() throws {
        let bytes = valid().bytes()
        _ = try GGUFFile(path: try scratch.write(bytes))
        for n in 0..<bytes.count {
            let e = try openError(Array(bytes[0..<n]))
            switch e {
            case .truncated?, .dataOutOfBounds?: break
            default: XCTFail("prefix of \(n) bytes: \(String(describing: e))")
            }
        }
    }

    func testUnknownTensorTypeNamesTheTensor() throws {
        for type: UInt32 in [4, 5, 31, 99, UInt32.max] {
            var w = valid()
            w.tensors[1].type = type
            let e = try openError(w.bytes())
            XCTAssertEqual(e, .unknownTensorType(path: path(of: e), tensor: "w.f32", type: Int(type)))
            XCTAssertTrue(e?.errorDescription?.contains("w.f32") == true)
        }
    }

    /// A real ggml type Pare cannot dequantise opens (metadata, raw bytes) but fails typed on read.
    func testKnownButUnsupportedTypeFailsWhenRead() throws {
        var w = valid()
        w.tensors.append(.init(name: "w.iq2", ne: [256], type: 16, data: [UInt8](repeating: 0, count: 66)))
        let p = try scratch.write(w.bytes())
        let f = try GGUFFile(path: p)
        XCTAssertEqual(f.info("w.iq2")?.encoding, "iq2_xxs")
        XCTAssertEqual(try f.rawBytes("w.iq2").count, 66)
        XCTAssertThrowsError(try f.readFloat32("w.iq2")) { e in
            guard case let .unsupported(ep, detail)? = e as? CheckpointError else { return XCTFail("\(e)") }
            XCTAssertEqual(ep, p)
            XCTAssertTrue(detail.contains("w.iq2") && detail.contains("IQ2_XXS"), detail)
        }
    }

    func testTensorDataPastEndOfFile() throws {
        var w = valid()
        w.tensors[2].offset = 1 << 21  // far beyond the file
        var e = try openError(w.bytes())
        guard case .dataOutOfBounds(_, "w.f16", _, _)? = e else { return XCTFail("\(String(describing: e))") }
        w.tensors[2].offset = UInt64.max - 31 // overflows when added to the data start
        e = try openError(w.bytes())
        guard case .dataOutOfBounds(_, "w.f16", _, _)? = e else { return XCTFail("\(String(describing: e))") }
        // The declared shape needs more bytes than are stored.
        w = valid()
        w.tensors[1].ne = [3, 1000]
        e = try openError(w.bytes())
        guard case .dataOutOfBounds(_, "w.f32", _, _)? = e else { return XCTFail("\(String(describing: e))") }
    }

    func testShapeInconsistencies() throws {
        var w = valid()
        w.tensors[0].ne = [33, 2] // Q8_0 blocks are 32 wide
        var e = try openError(w.bytes())
        guard case .shapeMismatch(_, "w.q8", let d)? = e, d.contains("33"), d.contains("32") else {
            return XCTFail("\(String(describing: e))")
        }
        w = valid()
        w.tensors[1].ne = [1 << 40, 1 << 40] // element count overflows
        e = try openError(w.bytes())
        guard case .shapeMismatch(_, "w.f32", _)? = e else { return XCTFail("\(String(describing: e))") }
        w.tensors[1].ne = [UInt64.max]
        e = try openError(w.bytes())
        guard case .shapeMismatch(_, "w.f32", _)? = e else { return XCTFail("\(String(describing: e))") }
        w = valid()
        w.tensors[1].ne = [3, 1, 1, 1, 1] // five dimensions
        e = try openError(w.bytes())
        guard case .shapeMismatch(_, "w.f32", _)? = e else { return XCTFail("\(String(describing: e))") }
    }

    func testUnknownMetadataValueType() throws {
        var w = valid()
        w.entries.insert(.raw("test.weird", type: 13, payload: [1, 2, 3, 4]), at: 1)
        var e = try openError(w.bytes())
        XCTAssertEqual(e, .unknownValueType(path: path(of: e), key: "test.weird", type: 13))
        w = valid()
        var payload = [UInt8]()
        payload.le(UInt32(77)); payload.le(UInt64(1)); payload.append(0)
        w.entries.append(.raw("test.weird.array", type: 9, payload: payload))
        e = try openError(w.bytes())
        XCTAssertEqual(e, .unknownValueType(path: path(of: e), key: "test.weird.array", type: 77))
    }

    func testAbsurdCountsAndLengths() throws {
        var w = valid()
        w.tensorCountOverride = UInt64.max
        guard case .truncated? = try openError(w.bytes()) else { return XCTFail() }
        w = valid()
        w.kvCountOverride = 1 << 62
        guard case .truncated? = try openError(w.bytes()) else { return XCTFail() }
        w = valid()
        var payload = [UInt8]()
        payload.le(UInt64.max - 3) // string length
        w.entries.append(.raw("test.long", type: 8, payload: payload))
        guard case .truncated? = try openError(w.bytes()) else { return XCTFail() }
        w = valid()
        payload = []
        payload.le(UInt32(12)); payload.le(UInt64(1) << 61) // array of 2^61 float64
        w.entries.append(.raw("test.big", type: 9, payload: payload))
        guard case .truncated? = try openError(w.bytes()) else { return XCTFail() }
        w = valid()
        payload = []
        for _ in 0..<100 { payload.le(UInt32(9)); payload.le(UInt64(1)) } // arrays nested 100 deep
        payload.le(UInt32(0)); payload.le(UInt64(0))
        w.entries.append(.raw("test.deep", type: 9, payload: payload))
        guard case .malformed? = try openError(w.bytes()) else { return XCTFail() }
    }

    func testMalformedLayout() throws {
        var w = valid()
        w.tensors[1].offset = 8 // not a multiple of 32
        guard case .malformed? = try openError(w.bytes()) else { return XCTFail() }
        w = valid()
        w.entries.append(.value("llama.block_count", .uint32(3)))
        guard case .malformed? = try openError(w.bytes()) else { return XCTFail("duplicate key accepted") }
        w = valid()
        w.tensors[1].name = "w.q8"
        guard case .malformed? = try openError(w.bytes()) else { return XCTFail("duplicate tensor accepted") }
        for a: GGUFValue in [.uint32(3), .uint32(0), .string("32")] {
            w = valid()
            w.entries.append(.value("general.alignment", a))
            guard case .malformed? = try openError(w.bytes()) else { return XCTFail("alignment \(a) accepted") }
        }
    }

    func testCustomAlignmentIsHonoured() throws {
        var w = valid()
        w.alignment = 128
        w.entries.append(.value("general.alignment", .uint32(128)))
        let f = try GGUFFile(path: try scratch.write(w.bytes()))
        XCTAssertEqual(f.alignment, 128)
        XCTAssertEqual(f.dataOffset % 128, 0)
        XCTAssertEqual(try f.readFloat32("w.f32"), [1, 2, 3])
    }

    /// Random bytes, and random corruptions of a valid file: typed errors or a file that reads, never a crash.
    func testRandomGarbageAndCorruptionNeverCrash() throws {
        var rng = SplitMix64(state: 42)
        let good = valid().bytes()
        var opened = 0, rejected = 0
        for i in 0..<3000 {
            var bytes: [UInt8]
            if i < 600 {
                bytes = (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                if i % 2 == 0 { bytes = Array("GGUF".utf8) + [3, 0, 0, 0] + bytes }
            } else {
                bytes = good
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                if i % 3 == 0 { bytes.removeLast(Int.random(in: 0..<bytes.count, using: &rng)) }
            }
            let p = try scratch.write(bytes)
            do {
                let f = try GGUFFile(path: p)
                opened += 1
                for t in f.tensorInfos where f.ggmlType(t.name)?.isDequantizable == true && t.count < 1 << 20 {
                    _ = try f.readFloat32(t.name)
                }
            } catch let e as CheckpointError {
                rejected += 1
                XCTAssertTrue(e.errorDescription?.contains(p) == true, "\(e)")
            }
        }
        XCTAssertGreaterThan(rejected, 600)
        XCTAssertGreaterThan(opened, 0, "some corruptions (of tensor data) leave a valid file")
    }
}
