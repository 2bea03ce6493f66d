// Acceptance: Pare's reference interpreter matches Hugging Face transformers on both real models,
// lifted from GGUF, from a Hugging Face directory, and re-loaded from a dumped .pir file.
import Foundation
import PareFrontend
import PareIR
import XCTest

final class ParityTests: XCTestCase {
    /// Runs every case of a reference file on a model and fails on any NOT OK; prints the report.
    func checkParity(model path: String, reference dir: String, label: String) throws {
        let ref = try ReferenceFile.load(try Paths.require(dir))
        let model = try loadModel(path)
        let interp = try model.interpreter()
        print("parity \(label) (\(path)):")
        var failures = 0
        for (i, c) in ref.cases.enumerated() {
            let r = compare("  case \(i) \(c.prompt.prefix(24).debugDescription)", c, try observe(model, interp, c))
            print(r.line)
            if !r.ok { failures += 1 }
        }
        XCTAssertEqual(failures, 0, "\(label): \(failures) of \(ref.cases.count) cases NOT OK (see the report above)")
    }

    func testSmolLM2FromGGUF() throws {
        let ref = try ReferenceFile.load(Paths.smolReference)
        let path = try Paths.require(Paths.smolGGUF)
        XCTAssertEqual(try sha256Hex(file: path), ref.model_sha256, "the reference was made from another file")
        try checkParity(model: path, reference: Paths.smolReference, label: "SmolLM2-135M GGUF")
    }

    func testQwenCoderFromGGUF() throws {
        try checkParity(model: try Paths.require(Paths.qwenGGUF), reference: Paths.qwenReference, label: "Qwen2.5-Coder-0.5B GGUF")
    }

    /// The same model from a Hugging Face directory (F32 safetensors in two shards, Q/K in Hugging Face's
    /// layout, tokenizer.json), written from the GGUF by scripts/gguf-to-hf.py during setup.
    func testSmolLM2FromHuggingFaceDirectory() throws {
        let dir = try Paths.require(Paths.cache + "/hf/smollm2-135m-instruct/config.json")
        try checkParity(model: (dir as NSString).deletingLastPathComponent, reference: Paths.smolReference, label: "SmolLM2-135M HF dir")
    }

    /// The same model through a dumped and re-parsed .pir file.
    func testSmolLM2FromPIR() throws {
        let model = try loadModel(try Paths.require(Paths.smolGGUF))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pare-parity-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let pir = dir.appendingPathComponent("smol.pir").path
        try printModule(model.module).write(toFile: pir, atomically: true, encoding: .utf8)
        try checkParity(model: pir, reference: Paths.smolReference, label: "SmolLM2-135M .pir")
    }

    /// The checker itself fails on a known-bad input: a reference with one logit moved by 0.05,
    /// one with a different greedy token, and one with different prompt ids.
    func testCheckerRejectsPerturbedReference() throws {
        let ref = try ReferenceFile.load(try Paths.require(Paths.smolReference))
        let model = try loadModel(try Paths.require(Paths.smolGGUF))
        let interp = try model.interpreter()
        let c = ref.cases[0]
        let got = try observe(model, interp, c)
        XCTAssertTrue(compare("clean", c, got).ok, compare("clean", c, got).line)

        var logit = c
        logit.positions[1].top_logits[3] += 0.05
        XCTAssertFalse(compare("logit+0.05", logit, got).ok)
        var lse = c
        lse.positions[0].logsumexp -= 0.02
        XCTAssertFalse(compare("lse-0.02", lse, got).ok)
        var greedy = c
        greedy.greedy_ids[2] += 1
        XCTAssertFalse(compare("greedy", greedy, got).ok)
        var ids = c
        ids.ids[0] += 1
        XCTAssertFalse(compare("ids", ids, got).ok)
    }
}
