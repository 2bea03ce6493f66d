// Safetensors reading: F32/F16/BF16 values round-trip exactly, single file and sharded, any alignment.
import Foundation
import PareCheckpoint
import XCTest

final class HFSafetensorsTests: XCTestCase {
    var dir: HFTempDirectory!

    override func setUpWithError() throws { dir = try HFTempDirectory() }
    override func tearDown() { dir.cleanUp() }

    func testF32RoundTripsBitExactly() throws {
        var values: [Float] = [0, -0.0, 1, -1, .pi, .infinity, -.infinity, .leastNonzeroMagnitude,
                               .greatestFiniteMagnitude, Float(bitPattern: 0x7fc0_1234)]
        var rng = SystemRandomNumberGenerator()
        while values.count < 24 { values.append(Float(bitPattern: rng.next() as UInt32)) }
        try dir.write("model.safetensors", safetensorsBytes([.f32("w", [2, 3, 4], values)]))
        let ckpt = try SafetensorsCheckpoint(directory: dir.path)
        XCTAssertEqual(ckpt.tensorInfos, [TensorInfo(name: "w", encoding: "f32", shape: [2, 3, 4])])
        let got = try ckpt.readFloat32("w")
        XCTAssertEqual(got.map(\.bitPattern), values.map(\.bitPattern))
    }

    /// Every one of the 65536 half-precision patterns, checked against Swift's own Float16; the tensor is
    /// large enough to take the two-thread path.
    func testF16AllPatternsConvertExactly() throws {
        let bits = (0..<(4 << 16)).map { UInt16(truncatingIfNeeded: $0 &* 40503) } // every pattern, 4 times, shuffled
        try dir.write("model.safetensors", safetensorsBytes([.f16("h", [4, 1 << 16], bits: bits)]))
        let ckpt = try SafetensorsCheckpoint(directory: dir.path)
        XCTAssertEqual(ckpt.info("h")?.encoding, "f16")
        let got = try ckpt.readFloat32("h")
        XCTAssertEqual(Set(bits).count, 1 << 16)
        var bad = 0
        for (b, g) in zip(bits, got) {
            let want = Float(Float16(bitPattern: b))
            if want.isNaN ? !g.isNaN : want.bitPattern != g.bitPattern { bad += 1 }
        }
        XCTAssertEqual(bad, 0, "\(bad) half patterns converted wrongly")
    }

    func testBF16RoundTripsExactly() throws {
        let raw: [Float] = [0, 1, -2, 3.140625, 1e30, -1e-30, .infinity, 65280, 0.0078125]
        let values = raw.map { Float(bitPattern: $0.bitPattern & 0xffff_0000) }
        try dir.write("model.safetensors", safetensorsBytes([.bf16("b", [values.count], values)]))
        let got = try SafetensorsCheckpoint(directory: dir.path).readFloat32("b")
        XCTAssertEqual(got.map(\.bitPattern), values.map(\.bitPattern))
    }

    /// A header length that is not a multiple of 8 leaves the data unaligned; values must not change.
    func testUnalignedDataSection() throws {
        let f: [Float] = [1.5, -2.25, 3]
        let h: [UInt16] = [0x3c00, 0xc000, 0x7bff]
        try dir.write("model.safetensors", safetensorsBytes([.f16("h", [3], bits: h), .f32("f", [3], f),
                                                             .bf16("b", [1], [-0.5])], padTo: 1))
        let ckpt = try SafetensorsCheckpoint(directory: dir.path)
        XCTAssertEqual(try ckpt.readFloat32("f"), f)
        XCTAssertEqual(try ckpt.readFloat32("h"), [1, -2, 65504])
        XCTAssertEqual(try ckpt.readFloat32("b"), [-0.5])
    }

    func testTensorsAreInDataOrderAndMetadataIsKept() throws {
        let a = HFTestTensor.f32("z.first", [2], [1, 2]), b = HFTestTensor.f32("a.second", [1, 1], [3])
        let scalar = HFTestTensor.f32("scalar", [], [7]), empty = HFTestTensor.f32("empty", [0, 4], [])
        try dir.write("model.safetensors", safetensorsBytes([a, b, scalar, empty], metadata: #"{"format":"pt","note":"x"}"#))
        let ckpt = try SafetensorsCheckpoint(directory: dir.path)
        XCTAssertEqual(ckpt.tensorInfos.map(\.name), ["z.first", "a.second", "scalar", "empty"])
        XCTAssertEqual(ckpt.metadata, [["format": "pt", "note": "x"]])
        XCTAssertEqual(try ckpt.readFloat32("scalar"), [7])
        XCTAssertEqual(try ckpt.readFloat32("empty"), [])
        XCTAssertNil(ckpt.info("missing"))
    }

    func testShardedIndex() throws {
        try dir.write("model-00001-of-00002.safetensors", safetensorsBytes([.f32("a", [2], [1, 2]), .f32("b", [1], [3])]))
        try dir.write("model-00002-of-00002.safetensors", safetensorsBytes([.bf16("c", [2], [4, 5])]))
        try dir.write("model.safetensors.index.json", """
            {"metadata": {"total_size": 16}, "weight_map": {"c": "model-00002-of-00002.safetensors",
             "a": "model-00001-of-00002.safetensors", "b": "model-00001-of-00002.safetensors"}}
            """)
        let ckpt = try SafetensorsCheckpoint(directory: dir.path)
        XCTAssertEqual(ckpt.tensorInfos.map(\.name), ["a", "b", "c"])
        XCTAssertEqual(ckpt.files.map { ($0 as NSString).lastPathComponent },
                       ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"])
        XCTAssertEqual(ckpt.file(of: "c"), dir.file("model-00002-of-00002.safetensors"))
        XCTAssertEqual(try ckpt.readFloat32("a"), [1, 2])
        XCTAssertEqual(try ckpt.readFloat32("c"), [4, 5])
        XCTAssertEqual(ckpt.info("c"), TensorInfo(name: "c", encoding: "bf16", shape: [2]))
    }

    /// Hugging Face's order: a single model.safetensors wins over an index.
    func testSingleFileWinsOverIndex() throws {
        try dir.write("model.safetensors", safetensorsBytes([.f32("only", [1], [9])]))
        try dir.write("model.safetensors.index.json", #"{"weight_map": {"x": "missing.safetensors"}}"#)
        XCTAssertEqual(try SafetensorsCheckpoint(directory: dir.path).tensorInfos.map(\.name), ["only"])
    }

    func testLargeBF16AndF32TakeTheParallelPathExactly() throws {
        let n = 300_001  // odd and over the threshold: the split point and the tail both matter
        let values = (0..<n).map { Float(bitPattern: UInt32(truncatingIfNeeded: $0 &* 2_654_435_761) & 0xffff_0000) }
        let clean = values.map { $0.isNaN ? Float(1) : $0 }
        try dir.write("model.safetensors", safetensorsBytes([.bf16("b", [n], clean), .f32("f", [n], clean)]))
        let ckpt = try SafetensorsCheckpoint(directory: dir.path)
        XCTAssertEqual(try ckpt.readFloat32("b").map(\.bitPattern), clean.map(\.bitPattern))
        XCTAssertEqual(try ckpt.readFloat32("f").map(\.bitPattern), clean.map(\.bitPattern))
    }

    func testWrongDestinationSizeAndMissingTensorAreErrors() throws {
        let path = try dir.write("model.safetensors", safetensorsBytes([.f32("w", [2, 2], [1, 2, 3, 4])]))
        let ckpt = try SafetensorsCheckpoint(directory: dir.path)
        var small = [Float](repeating: 0, count: 3)
        assertHFError({ try small.withUnsafeMutableBufferPointer { try ckpt.readFloat32("w", into: $0) } },
                              mentions: [path, "'w'", "3"]) {
            if case .shapeMismatch = $0 { return true } else { return false }
        }
        assertHFError({ _ = try ckpt.readFloat32("nope") }, mentions: [dir.path, "'nope'"]) {
            if case .missingTensor = $0 { return true } else { return false }
        }
    }
}
