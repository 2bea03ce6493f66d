// Every way a safetensors file or index can be wrong gives its typed error, naming the file and the tensor.
import Foundation
import PareCheckpoint
import XCTest

final class HFSafetensorsErrorTests: XCTestCase {
    var dir: HFTempDirectory!

    override func setUpWithError() throws { dir = try HFTempDirectory() }
    override func tearDown() { dir.cleanUp() }

    private func open() throws { _ = try SafetensorsCheckpoint(directory: dir.path) }

    private func writeModel(_ bytes: [UInt8]) throws -> String { try dir.write("model.safetensors", bytes) }

    func testGoodFileOpens() throws {
        // The baseline the bad cases below deviate from.
        _ = try writeModel(safetensorsBytes([.f32("w", [2], [1, 2])]))
        XCTAssertNoThrow(try open())
    }

    func testFileShorterThanTheLengthField() throws {
        let p = try writeModel([1, 0, 0])
        assertHFError(open, mentions: [p, "8-byte header length"]) {
            if case .truncated = $0 { return true } else { return false }
        }
    }

    func testHeaderLengthPastEndOfFile() throws {
        let p = try writeModel(rawSafetensors(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
                                              data: [0, 0, 128, 63], length: 4096))
        assertHFError(open, mentions: [p, "4096"]) {
            if case .truncated = $0 { return true } else { return false }
        }
    }

    func testImplausibleHeaderLength() throws {
        let p = try writeModel(rawSafetensors(header: "{}", data: [], length: UInt64.max))
        assertHFError(open, mentions: [p, "header length"]) {
            if case .malformed = $0 { return true } else { return false }
        }
        _ = try writeModel(rawSafetensors(header: "", data: [], padTo: 1, length: 0))
        assertHFError(open, mentions: [p]) { if case .malformed = $0 { return true } else { return false } }
    }

    func testInvalidJSON() throws {
        let p = try writeModel(rawSafetensors(header: #"{"w":{"dtype":"F32","shape":[1],"#, data: [0, 0, 0, 0]))
        assertHFError(open, mentions: [p, "not valid JSON"]) {
            if case .malformed = $0 { return true } else { return false }
        }
    }

    func testWrongJSONTypesNameTheTensorAndKey() throws {
        let p = try writeModel(rawSafetensors(header: #"{"w":{"dtype":"F32","shape":"1","data_offsets":[0,4]}}"#,
                                              data: [0, 0, 0, 0]))
        assertHFError(open, mentions: [p, "'w.shape'"]) { if case .malformed = $0 { return true } else { return false } }
        _ = try writeModel(rawSafetensors(header: #"{"w":{"dtype":"F32","shape":[1]}}"#, data: [0, 0, 0, 0]))
        assertHFError(open, mentions: [p, "data_offsets", "'w'"]) { if case .malformed = $0 { return true } else { return false } }
        _ = try writeModel(rawSafetensors(header: #"[1, 2]"#, data: []))
        assertHFError(open, mentions: [p]) { if case .malformed = $0 { return true } else { return false } }
    }

    func testOffsetsPastTheEndOfTheData() throws {
        let p = try writeModel(safetensorsBytes([.f32("a", [1], [1]), .f32("w", [2], [1, 2])], offsets: ["w": [8, 16]]))
        assertHFError(open, mentions: [p, "'w'", "past the end"]) {
            if case let .dataOutOfBounds(_, tensor, _, _) = $0 { return tensor == "w" } else { return false }
        }
    }

    func testOffsetsInconsistentWithShape() throws {
        let p = try writeModel(safetensorsBytes([.f32("w", [3], [1, 2, 3])], offsets: ["w": [0, 8]]))
        assertHFError(open, mentions: [p, "'w'", "12 bytes", "span 8"]) {
            if case let .shapeMismatch(_, tensor, _) = $0 { return tensor == "w" } else { return false }
        }
        _ = try writeModel(safetensorsBytes([.f32("w", [1], [1])], offsets: ["w": [4, 0]]))
        assertHFError(open, mentions: [p, "'w'", "not ordered"]) { if case .malformed = $0 { return true } else { return false } }
        _ = try writeModel(safetensorsBytes([.f32("w", [1], [1])], offsets: ["w": [0, 4, 8]]))
        assertHFError(open, mentions: [p, "'w'"]) { if case .malformed = $0 { return true } else { return false } }
        _ = try writeModel(safetensorsBytes([.f32("w", [-1], [1])], offsets: ["w": [0, 4]]))
        assertHFError(open, mentions: [p, "'w'", "negative"]) { if case .shapeMismatch = $0 { return true } else { return false } }
    }

    func testOverlappingTensors() throws {
        let p = try writeModel(safetensorsBytes([.f32("a", [2], [1, 2]), .f32("b", [2], [3, 4])], offsets: ["b": [4, 12]]))
        assertHFError(open, mentions: [p, "'a'", "'b'", "overlap"]) { if case .malformed = $0 { return true } else { return false } }
    }

    func testUnknownAndUnsupportedDtypes() throws {
        let p = try writeModel(safetensorsBytes([HFTestTensor(name: "q", dtype: "Q4", shape: [2], data: [1, 2])]))
        assertHFError(open, mentions: [p, "'q'", "'Q4'", "F32, F16, BF16"]) {
            if case .unsupported = $0 { return true } else { return false }
        }
        _ = try writeModel(safetensorsBytes([.f32("ok", [1], [1]),
                                             HFTestTensor(name: "ids", dtype: "I64", shape: [1], data: hfLittleEndian(Int64(5)))]))
        assertHFError(open, mentions: [p, "'ids'", "I64"]) { if case .unsupported = $0 { return true } else { return false } }
    }

    func testNoCheckpointInDirectory() throws {
        assertHFError(open, mentions: [dir.path, "model.safetensors"]) {
            if case .cannotOpen = $0 { return true } else { return false }
        }
        assertHFError({ _ = try SafetensorsCheckpoint(directory: self.dir.file("absent")) }, mentions: ["absent"]) {
            if case .cannotOpen = $0 { return true } else { return false }
        }
    }

    func testMissingShard() throws {
        try dir.write("model-00001-of-00002.safetensors", safetensorsBytes([.f32("a", [1], [1])]))
        try dir.write("model.safetensors.index.json",
                      #"{"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}"#)
        assertHFError(open, mentions: [dir.file("model-00002-of-00002.safetensors"), "does not exist"]) {
            if case .cannotOpen = $0 { return true } else { return false }
        }
    }

    func testTensorMissingFromItsShard() throws {
        try dir.write("s1.safetensors", safetensorsBytes([.f32("a", [1], [1])]))
        try dir.write("s2.safetensors", safetensorsBytes([.f32("c", [1], [1])]))
        // "b" is indexed in s2 but is in no shard; "c" sits in s2 but the index says s1.
        try dir.write("model.safetensors.index.json",
                      #"{"weight_map": {"a": "s1.safetensors", "b": "s2.safetensors"}}"#)
        assertHFError(open, mentions: [dir.file("s2.safetensors"), "'b'"]) {
            if case let .missingTensor(_, tensor) = $0 { return tensor == "b" } else { return false }
        }
        try dir.write("model.safetensors.index.json",
                      #"{"weight_map": {"a": "s1.safetensors", "c": "s1.safetensors"}}"#)
        assertHFError(open, mentions: [dir.file("s1.safetensors"), "'c'"]) {
            if case .missingTensor = $0 { return true } else { return false }
        }
    }

    func testMalformedIndex() throws {
        let p = try dir.write("model.safetensors.index.json", #"{"metadata": {}}"#)
        assertHFError(open, mentions: [p, "weight_map"]) { if case .malformed = $0 { return true } else { return false } }
        try dir.write("model.safetensors.index.json", #"{"weight_map": {"a": "../elsewhere.safetensors"}}"#)
        assertHFError(open, mentions: [p, "../elsewhere.safetensors"]) { if case .malformed = $0 { return true } else { return false } }
        try dir.write("model.safetensors.index.json", #"{"weight_map": {}}"#)
        assertHFError(open, mentions: [p, "empty"]) { if case .malformed = $0 { return true } else { return false } }
        try dir.write("model.safetensors.index.json", #"{"weight_map": "#)
        assertHFError(open, mentions: [p, "JSON"]) { if case .malformed = $0 { return true } else { return false } }
    }

    func testBadShardIsReportedWithItsOwnName() throws {
        try dir.write("s1.safetensors", safetensorsBytes([.f32("a", [1], [1])]))
        let bad = try dir.write("s2.safetensors", safetensorsBytes([.f32("b", [2], [1, 2])], offsets: ["b": [0, 4]]))
        try dir.write("model.safetensors.index.json", #"{"weight_map": {"a": "s1.safetensors", "b": "s2.safetensors"}}"#)
        assertHFError(open, mentions: [bad, "'b'"]) { if case .shapeMismatch = $0 { return true } else { return false } }
    }
}
