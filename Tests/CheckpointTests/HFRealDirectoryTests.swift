// A real Hugging Face directory, converted from the SmolLM2 GGUF by scripts/gguf-to-hf.py (F32, 2 shards),
// checked against values recorded from gguf-py's dequantisation (Fixtures/hf/smollm2-135m-instruct.json).
import Foundation
import PareCheckpoint
import XCTest

final class HFRealDirectoryTests: XCTestCase {
    /// Package root: Tests/CheckpointTests/<this file> -> up two levels.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let cache = ProcessInfo.processInfo.environment["PARE_CACHE"] ?? root + "/.cache"
    static let gguf = cache + "/models/SmolLM2-135M-Instruct.Q4_1.gguf"
    static let directory = cache + "/hf/smollm2-135m-instruct"
    /// tokenizer.json for the directory: shared/reference beside the checkout (PARE_SHARED overrides).
    static let tokenizerSource = (ProcessInfo.processInfo.environment["PARE_SHARED"] ?? root + "/../shared")
        + "/reference/smollm2-135m-instruct"
    static let fixture = root + "/Tests/CheckpointTests/Fixtures/hf/smollm2-135m-instruct.json"

    /// The recorded expectations (see scripts/gguf-to-hf.py --fixture).
    struct Fixture: Decodable {
        struct Tensor: Decodable {
            var name: String
            var shape: [Int]
            var checksum: Double
            var rows: [Int]
            var values: [[Double]]
        }
        var columns: Int
        var tensors: [Tensor]
        var allTensors: [String: [Int]]
        enum CodingKeys: String, CodingKey { case columns, tensors, allTensors = "all_tensors" }
    }

    private static var prepared: Result<HFDirectory, Error>?

    /// Opens the converted directory, converting the GGUF first when the directory is missing.
    private func openDirectory() throws -> HFDirectory {
        if let p = Self.prepared { return try p.get() }
        let r = Result { () throws -> HFDirectory in
            if !FileManager.default.fileExists(atPath: Self.directory + "/config.json") { try convert() }
            return try HFDirectory(path: Self.directory)
        }
        Self.prepared = r
        return try r.get()
    }

    private struct SetupError: Error, CustomStringConvertible { var description: String }

    private func convert() throws {
        guard FileManager.default.fileExists(atPath: Self.gguf) else {
            throw SetupError(description: "\(Self.gguf) is missing: run scripts/fetch-models.sh")
        }
        guard FileManager.default.fileExists(atPath: Self.tokenizerSource + "/tokenizer.json") else {
            throw SetupError(description: "\(Self.tokenizerSource)/tokenizer.json is missing (set PARE_SHARED to the shared folder)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", Self.root + "/scripts/gguf-to-hf.py", Self.gguf, Self.directory,
                       "--dtype", "f32", "--shards", "2", "--tokenizer", Self.tokenizerSource]
        let err = Pipe()
        p.standardError = err
        try p.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw SetupError(description: "scripts/gguf-to-hf.py failed (\(p.terminationStatus)):\n\(message)")
        }
    }

    private func loadFixture() throws -> Fixture {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.fixture))
        return try JSONDecoder().decode(Fixture.self, from: data)
    }

    func testConfigMatchesSmolLM2() throws {
        let d = try openDirectory()
        XCTAssertEqual(d.modelConfig, ModelConfig(
            architecture: "llama", name: "smollm2-135m-instruct", hidden: 576, layers: 30, heads: 9, kvHeads: 3,
            headDim: 64, ffn: 1536, vocabSize: 49152, rmsNormEps: 1e-5, ropeTheta: 100_000, contextLength: 8192,
            tiedEmbeddings: true, attentionBias: false))
        XCTAssertEqual(d.config.architectures, ["LlamaForCausalLM"])
        XCTAssertEqual(d.config.torchDtype, "float32")
        XCTAssertEqual(d.tokenizerPath, Self.directory + "/tokenizer.json")
        XCTAssertNotNil(d.tokenizerConfigPath)
    }

    func testTensorTableMatchesTheGGUF() throws {
        let d = try openDirectory()
        let fixture = try loadFixture()
        let infos = d.checkpoint.tensorInfos
        XCTAssertEqual(d.checkpoint.files.map { ($0 as NSString).lastPathComponent },
                       ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"])
        XCTAssertEqual(infos.count, 272)
        XCTAssertEqual(infos.count, fixture.allTensors.count)
        XCTAssertEqual(Set(infos.map(\.encoding)), ["f32"])
        for info in infos {
            XCTAssertEqual(info.shape, fixture.allTensors[info.name], info.name)
        }
        XCTAssertNil(d.checkpoint.info("lm_head.weight"), "tied: no lm_head")
        XCTAssertEqual(d.checkpoint.info("model.layers.0.self_attn.k_proj.weight")?.shape, [192, 576])
    }

    /// Compares `w` (shape `shape`) with the recorded rows and checksum: max abs difference over the
    /// recorded values, and the relative difference of the position-weighted checksum.
    private func compare(_ w: [Float], shape: [Int], with t: Fixture.Tensor) -> (maxDiff: Float, relative: Double) {
        let cols = shape.count == 1 ? shape[0] : w.count / shape[0]
        var maxDiff: Float = 0
        for (i, expected) in t.values.enumerated() {
            let row = t.rows.isEmpty ? 0 : t.rows[i]
            for (c, e) in expected.enumerated() { maxDiff = max(maxDiff, abs(w[row * cols + c] - Float(e))) }
        }
        var sum = 0.0
        for r in 0..<(w.count / cols) {
            for c in 0..<cols { sum += Double(w[r * cols + c]) * Double((r * 31 + c * 17) % 101 + 1) }
        }
        return (maxDiff, abs(sum - t.checksum) / max(abs(t.checksum), 1e-30))
    }

    /// Rows of each recorded tensor equal gguf-py's values exactly (q/k after undoing llama.cpp's row
    /// permutation), and a position-weighted checksum over the whole tensor agrees.
    func testValuesEqualGGUFDequantisation() throws {
        let d = try openDirectory()
        let fixture = try loadFixture()
        XCTAssertEqual(fixture.tensors.count, 7)
        for t in fixture.tensors {
            let info = try XCTUnwrap(d.checkpoint.info(t.name), t.name)
            XCTAssertEqual(info.shape, t.shape, t.name)
            let (maxDiff, relative) = compare(try d.checkpoint.readFloat32(t.name), shape: info.shape, with: t)
            let ok = maxDiff == 0 && relative < 1e-9
            print("\(ok ? "OK    " : "NOT OK") \(t.name): max diff \(maxDiff) (tolerance 0), checksum rel diff \(relative) (tolerance 1e-9)")
            XCTAssertEqual(maxDiff, 0, t.name)
            XCTAssertLessThan(relative, 1e-9, t.name)
        }
    }

    /// The check above can fail: q_proj/k_proj in GGUF row order (llama.cpp's permutation re-applied) are
    /// rejected by both the row values and the checksum.
    func testCheckRejectsPermutedRows() throws {
        let d = try openDirectory()
        for t in try loadFixture().tensors where t.name.hasSuffix("q_proj.weight") || t.name.hasSuffix("k_proj.weight") {
            let w = try d.checkpoint.readFloat32(t.name)  // [heads*64, 576]
            let heads = t.shape[0] / 64, cols = t.shape[1]
            // llama.cpp: GGUF row h*64 + 2k + j holds HF row h*64 + j*32 + k.
            var permuted = [Float](repeating: 0, count: w.count)
            for h in 0..<heads { for k in 0..<32 { for j in 0..<2 {
                let src = (h * 64 + j * 32 + k) * cols, dst = (h * 64 + 2 * k + j) * cols
                for c in 0..<cols { permuted[dst + c] = w[src + c] }
            } } }
            let (maxDiff, relative) = compare(permuted, shape: t.shape, with: t)
            XCTAssertGreaterThan(maxDiff, 0, t.name)
            XCTAssertGreaterThan(relative, 1e-9, t.name)
            XCTAssertEqual(compare(w, shape: t.shape, with: t).maxDiff, 0, t.name)
        }
    }
}
