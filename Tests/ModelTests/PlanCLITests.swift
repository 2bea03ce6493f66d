// `pare compile`, `inspect`, `run`, and `logits`/`generate` on a plan, through the built executables: the plan
// commands agree with the interpreter's, the C reader prints what `inspect --listing` prints, and bad plans and
// bad options get a message and a non-zero exit, never a crash or a half-written plan.
import Foundation
import XCTest

final class PlanCLITests: XCTestCase {
    /// SmolLM2 compiled dense once per test process (5 s).
    static var compiled: (dir: TempDir, plan: String)?

    func plan() throws -> String {
        if let c = Self.compiled { return c.plan }
        let dir = try TempDir(prefix: "pare-plan-cli")
        let plan = dir.file("smol.pare")
        // f32 weights: these tests hold the runtime to the interpreter token for token (a source-blocks plan decodes
        // with 8-bit activations; SourceWeightsTests measure what that costs).
        let r = try PareCLI.run(["compile", try Paths.require(Paths.smolGGUF), "--passes", "none", "--weights", "f32", "--max-rows", "8", "-o", plan, "--json"])
        XCTAssertEqual(r.status, 0, r.summary)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any], r.summary)
        XCTAssertEqual(report["steps"] as? Int, 30 * 7 + 2)
        XCTAssertEqual(report["pipeline"] as? String, "none")
        XCTAssertEqual((report["blocks"] as? [Int])?.count, 30)
        Self.compiled = (dir, plan)
        return plan
    }

    func json(_ r: PareRun) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any], r.summary)
    }

    func testRunAndGenerateOnAPlanMatchTheInterpreter() throws {
        let plan = try plan()
        let prompt = "def fib(n):"
        let interp = try PareCLI.run(["generate", try Paths.require(Paths.smolGGUF), "--prompt", prompt, "--max-tokens", "24", "--json"])
        let generate = try PareCLI.run(["generate", plan, "--prompt", prompt, "--max-tokens", "24", "--json"])
        let run = try PareCLI.run(["run", plan, "--prompt", prompt, "--max-tokens", "24", "--json"])
        for r in [interp, generate, run] { XCTAssertEqual(r.status, 0, r.summary) }
        let ids = try json(interp)["ids"] as? [Int]
        XCTAssertNotNil(ids)
        XCTAssertEqual(try json(generate)["ids"] as? [Int], ids)
        XCTAssertEqual(try json(run)["ids"] as? [Int], ids)
        XCTAssertEqual(try json(run)["text"] as? String, try json(interp)["text"] as? String)
        // Streaming prints the same text.
        let streamed = try PareCLI.run(["run", plan, "--prompt", prompt, "--max-tokens", "24"])
        XCTAssertEqual(streamed.out, (try json(interp)["text"] as? String ?? "") + "\n")
        // Seeded sampling is reproducible.
        let a = try PareCLI.run(["run", plan, "--prompt", prompt, "--max-tokens", "16", "--temperature", "0.9", "--seed", "3", "--json"])
        let b = try PareCLI.run(["run", plan, "--prompt", prompt, "--max-tokens", "16", "--temperature", "0.9", "--seed", "3", "--json"])
        XCTAssertEqual(try json(a)["ids"] as? [Int], try json(b)["ids"] as? [Int])
    }

    func testLogitsOnAPlanMatchTheInterpreter() throws {
        let plan = try plan()
        let args = ["--prompt", "import numpy as np\nx = np.", "--top", "5", "--json"]
        let a = try json(try PareCLI.run(["logits", try Paths.require(Paths.smolGGUF)] + args))
        let b = try json(try PareCLI.run(["logits", plan] + args))
        XCTAssertEqual(a["ids"] as? [Int], b["ids"] as? [Int])
        let pa = try XCTUnwrap(a["positions"] as? [[String: Any]]), pb = try XCTUnwrap(b["positions"] as? [[String: Any]])
        XCTAssertEqual(pa.count, pb.count)
        for (x, y) in zip(pa, pb) {
            XCTAssertEqual((x["top_ids"] as? [Int])?.first, (y["top_ids"] as? [Int])?.first)
            let lx = try XCTUnwrap(x["logsumexp"] as? Double), ly = try XCTUnwrap(y["logsumexp"] as? Double)
            XCTAssertEqual(lx, ly, accuracy: 1e-3 * max(abs(lx), 1))
        }
    }

    func testInspectAndTheCReaderAgree() throws {
        let plan = try plan()
        let listing = try PareCLI.run(["inspect", plan, "--listing"])
        let c = try PareCLI.runTool("pare-plan-dump", [plan])
        XCTAssertEqual(listing.status, 0, listing.summary)
        XCTAssertEqual(c.status, 0, c.summary)
        XCTAssertEqual(listing.out, c.out)
        let summary = try json(try PareCLI.run(["inspect", plan, "--verify", "--json"]))
        XCTAssertEqual(summary["verified"] as? Bool, true)
        XCTAssertEqual(summary["vocabulary"] as? Int, 49152)
        XCTAssertLessThan(try XCTUnwrap(summary["arena_bytes"] as? Int), try XCTUnwrap(summary["arena_bytes_without_reuse"] as? Int))
        let text = try PareCLI.run(["inspect", plan])
        XCTAssertTrue(text.out.contains("qkv_rope"), text.out)
        XCTAssertTrue(text.out.contains("sha256"), text.out)
    }

    /// A copy of the compiled plan to damage.
    func copyOfPlan(_ dir: TempDir) throws -> String {
        let copy = dir.file("copy.pare")
        try FileManager.default.copyItem(atPath: try plan(), toPath: copy)
        return copy
    }

    func testDamagedPlansAreRejectedWithAMessage() throws {
        let dir = try TempDir(prefix: "pare-plan-bad")
        // A truncated weight blob.
        let truncated = try copyOfPlan(dir)
        let blob = try FileHandle(forWritingTo: URL(fileURLWithPath: truncated + "/weights.bin"))
        try blob.truncate(atOffset: 1_000_000)
        try blob.close()
        let r1 = try PareCLI.run(["run", truncated, "--prompt", "x", "--max-tokens", "2"])
        XCTAssertEqual(r1.status, 3, r1.summary)
        XCTAssertTrue(r1.err.contains("weights.bin"), r1.err)
        // One flipped byte in plan.pb.
        let flipped = dir.file("flipped.pare")
        try FileManager.default.copyItem(atPath: try plan(), toPath: flipped)
        var pb = try Data(contentsOf: URL(fileURLWithPath: flipped + "/plan.pb"))
        pb[pb.count / 2] ^= 0x40
        try pb.write(to: URL(fileURLWithPath: flipped + "/plan.pb"))
        for verb in ["run", "logits", "generate"] {
            let r = try PareCLI.run([verb, flipped, "--prompt", "x"])
            XCTAssertEqual(r.status, 3, r.summary)
            XCTAssertTrue(r.err.contains("plan.pb"), r.err)
        }
        let c = try PareCLI.runTool("pare-plan-dump", [flipped])
        XCTAssertEqual(c.status, 1, c.summary)
        // A flipped byte inside a tensor: found by its checksum.
        let bad = dir.file("badtensor.pare")
        try FileManager.default.copyItem(atPath: try plan(), toPath: bad)
        let h = try FileHandle(forUpdating: URL(fileURLWithPath: bad + "/weights.bin"))
        try h.seek(toOffset: 4096)
        var byte = try XCTUnwrap(h.readData(ofLength: 1).first)
        byte ^= 0x01
        try h.seek(toOffset: 4096)
        h.write(Data([byte]))
        try h.close()
        let r3 = try PareCLI.run(["run", bad, "--prompt", "x"])
        XCTAssertEqual(r3.status, 3, r3.summary)
        XCTAssertTrue(r3.err.lowercased().contains("checksum"), r3.err)
    }

    func testBadOptionsAndOutputsAreRejectedBeforeAnyWork() throws {
        let smol = try Paths.require(Paths.smolGGUF)
        let dir = try TempDir(prefix: "pare-plan-opts")
        let out = dir.file("x.pare")
        for args in [["compile", smol, "--passes", "layer-prune{count=", "-o", out],
                     ["compile", smol, "--max-rows", "0", "-o", out],
                     ["compile", smol, "--passes", "no-such-pass", "-o", out],
                     ["compile", smol, "--kl-budget", "-1", "-o", out],
                     ["compile", smol, "--kl-budget", "nan", "-o", out],
                     ["run", try plan(), "--prompt", "x", "--top-p", "0"],
                     ["run", try plan(), "--prompt", "x", "--temperature=-1"]] {
            let r = try PareCLI.run(args)
            XCTAssertEqual(r.status, 64, r.summary)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing is written on a bad option")
        }
        // -o naming a folder that is not a plan: refused, and the folder is left as it was.
        let precious = dir.file("precious")
        try FileManager.default.createDirectory(atPath: precious, withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: precious + "/notes.txt"))
        let r = try PareCLI.run(["compile", smol, "--passes", "none", "-o", precious])
        XCTAssertNotEqual(r.status, 0, r.summary)
        XCTAssertEqual(try String(contentsOfFile: precious + "/notes.txt", encoding: .utf8), "keep me")
        // A prompt longer than the context given: a typed error, not a crash.
        let long = try PareCLI.run(["run", try plan(), "--tokens", Array(repeating: "1", count: 40).joined(separator: ","), "--context", "8"])
        XCTAssertEqual(long.status, 1, long.summary)
        XCTAssertTrue(long.err.contains("error:"), long.err)
    }

    func testTheDefaultKLBudgetRejectsALayerRemovalAndNoneKeepsIt() throws {
        // The default budget (0.02 nats per token for pruning passes, from the HumanEval ablation) against removing
        // a block of SmolLM2, whose KL is several times that; --kl-budget none lets it through.
        let smol = try Paths.require(Paths.smolGGUF)
        let dir = try TempDir(prefix: "pare-plan-budget")
        let calibration = ["--calibration-samples", "2", "--calibration-length", "32"]
        for (budget, kept) in [([String](), false), (["--kl-budget", "none"], true)] {
            let out = dir.file("b\(kept).pare")
            let r = try PareCLI.run(["compile", smol, "--passes", "layer-prune{remove=7}", "-o", out, "--json"] + budget + calibration)
            XCTAssertEqual(r.status, 0, r.summary)
            let records = try XCTUnwrap(try json(r)["passes"] as? [[String: Any]])
            let layer = try XCTUnwrap(records.first { $0["pass"] as? String == "layer-prune" })
            XCTAssertEqual(layer["rejected"] as? Bool, !kept, "\(budget): \(layer)")
            if !kept {
                XCTAssertEqual(layer["kl_budget"] as? Double, 0.02)
                XCTAssertTrue((layer["rejection"] as? String ?? "").contains("exceeds the budget 0.02"), "\(layer)")
                XCTAssertEqual(try json(r)["blocks"] as? [Int], Array(0..<30), "the block stays")
            } else {
                XCTAssertFalse((try json(r)["blocks"] as? [Int] ?? []).contains(7), "block 7 is gone")
            }
            try FileManager.default.removeItem(atPath: out)
        }
    }

    /// `pare report` counts FLOPs from the kernel table: on Qwen's source-blocks plan, whose q;k;v and gate;up are
    /// stacked parts of different block types in 12 steps, one token at context 0 costs what it does by hand: 2 per
    /// weight of every matrix product (the embedding is a lookup) plus attention over the token itself, 4 x heads x
    /// head_dim per block; at context 512, 513 positions. (Before the kernel table the report counted only the first
    /// part of a matrix: 985,255,936 instead of 988,008,448.)
    func testReportCountsEveryPartOfASourceBlocksMatrix() throws {
        let dir = try TempDir(prefix: "pare-report")
        let plan = dir.file("qwen.pare")
        let c = try PareCLI.run(["compile", try Paths.require(Paths.qwenGGUF), "--passes", "none", "--weights", "source", "--max-rows", "8", "-o", plan])
        XCTAssertEqual(c.status, 0, c.summary)
        let listing = try PareCLI.run(["inspect", plan, "--listing"])
        XCTAssertEqual(listing.status, 0, listing.summary)
        XCTAssertEqual(String(decoding: listing.stdout, as: UTF8.self).components(separatedBy: " matrix_parts=").count - 1, 12,
                       "the plan no longer has the multi-part matrices this test is about")
        let r = try PareCLI.run(["report", plan, "--no-bench", "--json"])
        XCTAssertEqual(r.status, 0, r.summary)
        let figures = try XCTUnwrap((try json(r)["plans"] as? [[String: Any]])?.first, r.summary)
        // Qwen2.5-Coder-0.5B: hidden 896, 24 blocks, 14 heads of 64 (2 KV heads), FFN 4864, vocabulary 151936, own head.
        let hidden = 896, blocks = 24, headDim = 64, heads = 14, kvHeads = 2, ffn = 4864, vocab = 151936
        let perBlock = hidden * (heads + 2 * kvHeads) * headDim + heads * headDim * hidden + 3 * hidden * ffn
        let products = blocks * perBlock + vocab * hidden
        XCTAssertEqual(figures["flops_per_token_ctx0"] as? Int, 2 * products + blocks * 4 * heads * headDim)
        XCTAssertEqual(figures["flops_per_token_ctx512"] as? Int, 2 * products + blocks * 4 * heads * headDim * 513)
    }
}
