// End-to-end tests of the `pare` command line: bad inputs (exit codes, messages, no partial output), bad
// arguments, the JSON shapes of tokenize / logits / generate, and byte-identical output for identical input.
import Foundation
import PareCheckpoint
import PareFrontend
import XCTest

final class CLITests: XCTestCase {
    // MARK: Shared fixtures

    /// The SmolLM2 dump, written once per test run by `pare dump-ir` into a folder that lives as long as the process.
    private static var dumpDir: TempDir?
    private static var dumpText: String?

    /// `pare dump-ir <SmolLM2 GGUF>` as text (exit 0 checked once).
    func smolDump() throws -> String {
        if let t = Self.dumpText { return t }
        let dir = try TempDir(prefix: "pare-cli-dump")
        let out = dir.file("smol.pir")
        let r = try PareCLI.run(["dump-ir", try smol(), "-o", out])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdout.count, 0, "dump-ir -o must print nothing on stdout")
        let text = try String(contentsOfFile: out, encoding: .utf8)
        Self.dumpDir = dir
        Self.dumpText = text
        return text
    }

    override class func tearDown() {
        dumpDir = nil  // removes the folder
        dumpText = nil
        super.tearDown()
    }

    func smol() throws -> String { try Paths.require(Paths.smolGGUF) }

    /// Reference case 1 of SmolLM2 (the fibonacci prompt).
    func smolCase() throws -> ReferenceCase {
        let ref = try ReferenceFile.load(try Paths.require(Paths.smolReference))
        return ref.cases[1]
    }

    /// Asserts that a failed command wrote no output file (and left no temporary beside it).
    func assertNoOutput(_ dir: TempDir, expected: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try dir.listing(), expected.sorted(), "a failed command left files behind", file: file, line: line)
    }

    func testExecutableIsFound() throws {
        let exe = try PareCLI.executable()
        let r = try PareCLI.run(["--help"])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertTrue(r.out.contains("dump-ir") && r.out.contains("Exit codes"), "unexpected help from \(exe): \(r.out.prefix(500))")
        print("pare: \(exe) (candidates: \(PareCLI.candidates().joined(separator: ", ")))")
    }

    // MARK: Bad GGUF input

    func testWrongMagicIsRejected() throws {
        let dir = try TempDir()
        let ggml = try dir.write("old.gguf", Data("ggml".utf8) + Data(repeating: 7, count: 60))
        var r = try PareCLI.run(["dump-ir", ggml, "-o", dir.file("out.pir")])
        assertFailure(r, status: 3, stderrContains: [ggml, "not a GGUF file", "magic", "\"ggml\""])
        try assertNoOutput(dir, expected: ["old.gguf"])

        // Not recognisable at all, and no telling extension: named as not a model.
        let blob = try dir.write("weights.bin", Data((0..<100).map { UInt8($0 * 37 % 256) }))
        r = try PareCLI.run(["dump-ir", blob, "-o", dir.file("out.pir")])
        assertFailure(r, status: 3, stderrContains: [blob, "not a GGUF file, a Hugging Face directory"])
        try assertNoOutput(dir, expected: ["old.gguf", "weights.bin"])

        let missing = dir.file("nope.gguf")
        r = try PareCLI.run(["verify", missing])
        assertFailure(r, status: 3, stderrContains: [missing, "no such file"])
    }

    func testTruncatedGGUFIsRejected() throws {
        let source = try smol()
        let gguf = try GGUFFile(path: source)
        let dir = try TempDir()
        let whole = try FileHandle(forReadingFrom: URL(fileURLWithPath: source))
        defer { try? whole.close() }
        // Inside the magic, the header counts, the metadata (the token list), the tensor infos, and the tensor data.
        let cuts: [(Int, [String])] = [
            (0, ["truncated"]), (3, ["truncated"]), (20, ["truncated"]), (4096, ["truncated"]), (300_000, ["truncated"]),
            (gguf.dataOffset - 10, ["truncated", "tensor"]),
            (gguf.dataOffset + 1_000_000, ["truncated", "past the end"]),
        ]
        // A previous output must survive a failed run untouched.
        let out = try dir.write("out.pir", text: "previous output\n")
        for (n, fragments) in cuts {
            try whole.seek(toOffset: 0)
            let cut = try dir.write("cut-\(n).gguf", try whole.read(upToCount: n) ?? Data())
            XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: cut)[.size] as? Int, n)
            let r = try PareCLI.run(["dump-ir", cut, "-o", out])
            assertFailure(r, status: 3, stderrContains: [cut] + fragments)
            XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), "previous output\n", "a failed run touched -o: \(r.summary)")
            try FileManager.default.removeItem(atPath: cut)
            try assertNoOutput(dir, expected: ["out.pir"])
        }
    }

    func testCorruptedTensorTypeIsRejected() throws {
        let source = try smol()
        let gguf = try GGUFFile(path: source)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: source))
        let first = gguf.tensorInfos[0]
        let at = try tensorTypeOffset(in: bytes, tensor: first.name, dims: first.shape.count, before: gguf.dataOffset)
        let original = bytes[at..<(at + 4)].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self).littleEndian }
        XCTAssertEqual(Int(original), gguf.ggmlType(first.name)?.rawValue, "located the wrong field")
        bytes.replaceSubrange(at..<(at + 4), with: [99, 0, 0, 0])
        let dir = try TempDir()
        let bad = try dir.write("bad-type.gguf", bytes)
        let r = try PareCLI.run(["dump-ir", bad, "-o", dir.file("out.pir")])
        assertFailure(r, status: 3, stderrContains: [bad, "'\(first.name)'", "unknown ggml type 99"])
        try assertNoOutput(dir, expected: ["bad-type.gguf"])
    }

    /// The offset of the u32 ggml type in the tensor info of `tensor`: the infos end the header, so the last
    /// occurrence of `<u64 length><name>` before the data section starts it; then u32 n_dims, n_dims u64 extents.
    func tensorTypeOffset(in bytes: Data, tensor: String, dims: Int, before end: Int) throws -> Int {
        var key = Data()
        withUnsafeBytes(of: UInt64(tensor.utf8.count).littleEndian) { key.append(contentsOf: $0) }
        key.append(contentsOf: Array(tensor.utf8))
        let found = try XCTUnwrap(bytes.range(of: key, options: .backwards, in: 0..<end), "tensor info of \(tensor) not found")
        return found.upperBound + 4 + 8 * dims
    }

    // MARK: Bad Hugging Face directories

    func testTinyHFDirectoryLifts() throws {
        // The control for the corruptions below: the intact directory lifts, verifies and runs.
        let dir = try TempDir()
        let hf = try TinyHF.write(in: dir)
        let out = dir.file("tiny.pir")
        var r = try PareCLI.run(["dump-ir", hf, "-o", out])
        XCTAssertEqual(r.status, 0, r.summary)
        r = try PareCLI.run(["verify", out])
        XCTAssertEqual(r.status, 0, r.summary)
        r = try PareCLI.run(["logits", out, "--prompt", "hi", "--top", "3", "--json"])
        XCTAssertEqual(r.status, 0, r.summary)
    }

    func testMalformedConfigIsRejected() throws {
        var config = TinyHF.config
        config["num_attention_heads"] = 3  // 8 is not divisible by 3, and there is no head_dim
        var missing = TinyHF.config
        missing["hidden_size"] = nil
        let cases: [(String, Data, [String])] = [
            ("invalid JSON", Data("{\"model_type\": \"llama\", \"hidden_size\": 8,".utf8), ["JSON"]),
            ("missing key", try TinyHF.configJSON(missing), ["hidden_size", "missing"]),
            ("heads do not divide hidden", try TinyHF.configJSON(config), ["num_attention_heads", "does not divide", "hidden_size"]),
        ]
        for (what, data, fragments) in cases {
            let dir = try TempDir()
            let hf = try TinyHF.write(in: dir)
            try data.write(to: URL(fileURLWithPath: hf + "/config.json"))
            let r = try PareCLI.run(["dump-ir", hf, "-o", dir.file("out.pir")])
            assertFailure(r, status: 3, stderrContains: [hf + "/config.json"] + fragments, context: what)
            try assertNoOutput(dir, expected: ["tiny-hf"])
        }
    }

    func testMalformedTokenizerJSONIsRejected() throws {
        let good = try TinyHF.tokenizerJSON()
        var badMerges = try XCTUnwrap(try JSONSerialization.jsonObject(with: good) as? [String: Any])
        var model = try XCTUnwrap(badMerges["model"] as? [String: Any])
        model["merges"] = [42]
        badMerges["model"] = model
        let cases: [(String, Data, [String])] = [
            ("truncated JSON", good.prefix(good.count / 2), ["invalid JSON"]),
            ("a merge that is a number", try JSONSerialization.data(withJSONObject: badMerges), ["$.model.merges[0]"]),
        ]
        for (what, data, fragments) in cases {
            let dir = try TempDir()
            let hf = try TinyHF.write(in: dir)
            try data.write(to: URL(fileURLWithPath: hf + "/tokenizer.json"))
            for args in [["dump-ir", hf, "-o", dir.file("out.pir")], ["tokenize", hf, "--text", "x"]] {
                let r = try PareCLI.run(args)
                assertFailure(r, status: 3, stderrContains: [hf + "/tokenizer.json"] + fragments, context: "\(what): \(args[0])")
            }
            try assertNoOutput(dir, expected: ["tiny-hf"])
        }
    }

    func testTruncatedSafetensorsIsRejected() throws {
        let whole = try TinyHF.safetensors()
        let cases: [(Int, [String])] = [(5, ["truncated"]), (40, ["truncated"]), (whole.count - 100, ["past the end"])]
        for (n, fragments) in cases {
            let dir = try TempDir()
            let hf = try TinyHF.write(in: dir)
            try whole.prefix(n).write(to: URL(fileURLWithPath: hf + "/model.safetensors"))
            let r = try PareCLI.run(["dump-ir", hf, "-o", dir.file("out.pir")])
            assertFailure(r, status: 3, stderrContains: [hf + "/model.safetensors"] + fragments)
            try assertNoOutput(dir, expected: ["tiny-hf"])
        }
    }

    // MARK: Bad IR text

    /// Writes the SmolLM2 dump with `edit` applied to the first line containing `match`; returns the path and that line (1-based).
    func editedDump(_ dir: TempDir, _ name: String, match: String, edit: (String) -> String) throws -> (path: String, line: Int, text: String) {
        var lines = try smolDump().components(separatedBy: "\n")
        let i = try XCTUnwrap(lines.firstIndex { $0.contains(match) }, "no line of the dump contains \(match)")
        lines[i] = edit(lines[i])
        let path = try dir.write(name, text: lines.joined(separator: "\n"))
        return (path, i + 1, lines[i])
    }

    func testMalformedIRTextIsRejectedWithLocation() throws {
        let dir = try TempDir()
        let cases: [(name: String, match: String, edit: (String) -> String, column: (String) -> Int?, message: String)] = [
            ("unknown-op.pir", " = rms_norm ", { $0.replacingOccurrences(of: " = rms_norm ", with: " = gelu_norm ") },
             { Self.column(of: "gelu_norm", in: $0) }, "unknown op 'gelu_norm'"),
            ("undefined-value.pir", "= rms_norm %0,", { $0.replacingOccurrences(of: "rms_norm %0,", with: "rms_norm %4242,") },
             { _ in nil }, "undefined value %4242"),
            ("unterminated.pir", "architecture = \"llama\"", { $0.replacingOccurrences(of: "\"llama\"", with: "\"llama") },
             { Self.column(of: "\"llama", in: $0) }, "unterminated string"),
        ]
        for c in cases {
            let (path, line, text) = try editedDump(dir, c.name, match: c.match, edit: c.edit)
            for args in [["verify", path], ["dump-ir", path, "-o", dir.file("out.pir")]] {
                let r = try PareCLI.run(args)
                assertFailure(r, status: 3, stderrContains: [c.message])
                let first = r.err.components(separatedBy: "\n")[0]
                if let col = c.column(text) {
                    XCTAssertTrue(first.hasPrefix("\(path):\(line):\(col): error: "), "expected \(path):\(line):\(col): error: ..., got \(first)")
                } else {
                    XCTAssertTrue(first.hasPrefix("\(path):\(line):") && first.contains(": error: "),
                                  "expected \(path):\(line):<col>: error: ..., got \(first)")
                }
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("out.pir")))
        }
    }

    /// 1-based column of the first occurrence of `needle` in `line`.
    static func column(of needle: String, in line: String) -> Int? {
        line.range(of: needle).map { line.distance(from: line.startIndex, to: $0.lowerBound) + 1 }
    }

    func testIRFailingVerificationExits4WithLocatedErrors() throws {
        let dir = try TempDir()
        // An op in a block that is not declared (O5), located at the op.
        let (opPath, opLine, _) = try editedDump(dir, "bad-block.pir", match: "= rms_norm %0,") {
            $0.replacingOccurrences(of: "block 0 :", with: "block 99 :")
        }
        var r = try PareCLI.run(["verify", opPath])
        assertFailure(r, status: 4, stderrContains: ["\(opPath):\(opLine):", "error:", "99"])
        r = try PareCLI.run(["dump-ir", opPath, "-o", dir.file("out.pir")])
        assertFailure(r, status: 4, stderrContains: ["\(opPath):\(opLine):"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("out.pir")))

        // A parameter whose declared shape its view chain does not produce (P2), and the op that reads it (O2):
        // every error must point into the file, the parameter's at its `param` line.
        let (pPath, pLine, _) = try editedDump(dir, "bad-param.pir", match: "param @blk.0.attn_norm.weight :") {
            $0.replacingOccurrences(of: "tensor<576xf32>", with: "tensor<577xf32>")
        }
        r = try PareCLI.run(["verify", pPath])
        XCTAssertEqual(r.status, 4, r.summary)
        let errors = r.err.components(separatedBy: "\n").filter { $0.contains("error:") && !$0.hasPrefix("IR verification failed") }
        XCTAssertFalse(errors.isEmpty, r.summary)
        for e in errors { XCTAssertTrue(e.hasPrefix(pPath + ":"), "unlocated verifier error: \(e)") }
        XCTAssertTrue(errors.contains { $0.hasPrefix("\(pPath):\(pLine):") }, "no error points at the param line \(pLine): \(r.summary)")
        // Loading the module for any other command reports the same located errors.
        r = try PareCLI.run(["dump-ir", pPath, "-o", dir.file("out.pir")])
        assertFailure(r, status: 4, stderrContains: ["\(pPath):\(pLine):"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("out.pir")))
    }

    func testUnreadableIRFileIsNamedWithTheReason() throws {
        // What is wrong must be said as such: a missing file is missing, a non-UTF-8 file is not text.
        let dir = try TempDir()
        let missing = dir.file("missing.pir")
        let binary = try dir.write("binary.pir", Data([0xff, 0xfe, 0x00, 0x41]))
        for command in ["verify", "dump-ir"] {
            assertFailure(try PareCLI.run([command, missing]), status: 3, stderrContains: [missing, "no such file"], context: command)
            assertFailure(try PareCLI.run([command, binary]), status: 3, stderrContains: [binary, "UTF-8"], context: command)
        }
    }

    func testIRWithChangedSourceIsRejected() throws {
        let dir = try TempDir()
        let zeros = String(repeating: "0", count: 64)
        let (path, _, _) = try editedDump(dir, "changed.pir", match: "source.sha256 = ") { _ in "    source.sha256 = \"\(zeros)\"" }
        var r = try PareCLI.run(["logits", path, "--tokens", "1,2"])
        assertFailure(r, status: 3, stderrContains: [path, "sha256", zeros, try smol(), "dump-ir"])
        XCTAssertEqual(r.stdout.count, 0, "printed logits for a module whose source changed")
        r = try PareCLI.run(["dump-ir", path, "-o", dir.file("out.pir")])
        assertFailure(r, status: 3, stderrContains: [path, "sha256"])
        try assertNoOutput(dir, expected: ["changed.pir"])
    }

    func testIRWithMissingSourceIsRejected() throws {
        let dir = try TempDir()
        let gone = dir.file("moved-away.gguf")
        let (path, _, _) = try editedDump(dir, "orphan.pir", match: "source.path = ") { _ in "    source.path = \"\(gone)\"" }
        var r = try PareCLI.run(["generate", path, "--tokens", "1", "--max-tokens", "1"])
        assertFailure(r, status: 3, stderrContains: [path, gone, "does not exist"])
        XCTAssertEqual(r.stdout.count, 0)
        // `verify` checks the text alone and does not need the source.
        r = try PareCLI.run(["verify", path])
        XCTAssertEqual(r.status, 0, r.summary)
    }

    // MARK: Bad arguments

    func testBadArgumentsExit64() throws {
        let m = try smol()
        let cases: [([String], String)] = [
            (["logits", m, "--tokens", "1,x"], "--tokens"),
            (["logits", m, "--tokens", "1,,2"], "--tokens"),
            (["logits", m, "--prompt", "a", "--top", "0"], "--top"),
            (["logits", m, "--prompt", "a", "--top", "1001"], "--top"),
            (["generate", m, "--prompt", "a", "--max-tokens", "0"], "--max-tokens"),
            (["generate", m, "--prompt", "a", "--tokens", "1"], "exactly one of --prompt and --tokens"),
            (["logits", m], "exactly one of --prompt and --tokens"),
            (["tokenize", m], "--text"),
            (["dump-ir"], "model"),
            (["frobnicate", m], "frobnicate"),
        ]
        for (args, fragment) in cases {
            let r = try PareCLI.run(args)
            assertFailure(r, status: 64, stderrContains: [fragment])
            XCTAssertLessThan(r.seconds, 5, "argument errors must be found before loading the model: \(r.summary)")
        }
    }

    // MARK: Output shapes

    func testTokenizeJSON() throws {
        let m = try smol()
        let text = "def f(x):\n\treturn x  # naïve 😀 <|im_end|>"
        let r = try PareCLI.run(["tokenize", m, "--text", text, "--json"])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.out.filter { $0 == "\n" }.count, 1, "expected one line of JSON: \(r.out)")
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        XCTAssertEqual(Set(obj.keys), ["ids", "decoded"])
        let ids = try XCTUnwrap(obj["ids"] as? [Int])
        XCTAssertEqual(ids, try loadTokenizer(m).encode(text))
        XCTAssertEqual(obj["decoded"] as? String, text)
        XCTAssertTrue(ids.contains(2), "<|im_end|> (id 2) in the text must be matched as a special token: \(ids)")

        let plain = try PareCLI.run(["tokenize", m, "--text", text])
        XCTAssertEqual(plain.status, 0, plain.summary)
        let lines = plain.out.split(separator: "\n")
        XCTAssertEqual(lines.count, ids.count)
        XCTAssertEqual(lines.compactMap { Int($0.split(separator: " ")[0]) }, ids)
    }

    func testLogitsJSONShapeAndDeterminism() throws {
        let m = try smol()
        let ref = try smolCase()
        let args = ["logits", m, "--prompt", ref.prompt, "--top", "5", "--json"]
        let r = try PareCLI.run(args)
        XCTAssertEqual(r.status, 0, r.summary)
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        XCTAssertEqual(Set(obj.keys), ["ids", "positions"])
        XCTAssertEqual(obj["ids"] as? [Int], ref.ids)
        let positions = try XCTUnwrap(obj["positions"] as? [[String: Any]])
        XCTAssertEqual(positions.count, ref.ids.count)
        for (i, p) in positions.enumerated() {
            XCTAssertEqual(Set(p.keys), ["top_ids", "top_logits", "logsumexp"])
            let ids = try XCTUnwrap(p["top_ids"] as? [Int])
            let logits = try XCTUnwrap(p["top_logits"] as? [Double])
            let lse = try XCTUnwrap(p["logsumexp"] as? Double)
            XCTAssertEqual(ids.count, 5)
            XCTAssertEqual(logits.count, 5)
            XCTAssertEqual(Set(ids).count, 5, "top ids repeat at position \(i)")
            XCTAssertTrue(ids.allSatisfy { (0..<49152).contains($0) })
            XCTAssertEqual(logits, logits.sorted(by: >), "top logits not descending at position \(i)")
            XCTAssertTrue(lse.isFinite && lse >= logits[0] && lse <= logits[0] + log(49152.0), "logsumexp \(lse) vs max \(logits[0])")
            XCTAssertEqual(ids[0], ref.positions[i].top_ids[0], "top-1 at position \(i) differs from transformers")
        }
        let again = try PareCLI.run(args)
        XCTAssertEqual(again.status, 0, again.summary)
        XCTAssertEqual(again.stdout, r.stdout, "logits --json is not byte-identical across runs")
    }

    func testGenerateJSONAndStreaming() throws {
        let m = try smol()
        let ref = try smolCase()
        let tokens = ref.ids.map(String.init).joined(separator: ",")
        let r = try PareCLI.run(["generate", m, "--tokens", tokens, "--max-tokens", "4", "--json"])
        XCTAssertEqual(r.status, 0, r.summary)
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        XCTAssertEqual(Set(obj.keys), ["ids", "text"])
        let ids = try XCTUnwrap(obj["ids"] as? [Int])
        XCTAssertEqual(ids, Array(ref.greedy_ids.prefix(4)), "greedy continuation differs from transformers'")
        let text = try XCTUnwrap(obj["text"] as? String)
        XCTAssertEqual(text, try loadTokenizer(m).decode(ids))

        let streamed = try PareCLI.run(["generate", m, "--prompt", ref.prompt, "--max-tokens", "4"])
        XCTAssertEqual(streamed.status, 0, streamed.summary)
        XCTAssertEqual(streamed.out, text + "\n", "streamed text differs from the --json text")
    }

    func testDumpIRIsDeterministic() throws {
        let m = try smol()
        let file = try smolDump()
        XCTAssertTrue(file.hasPrefix("// pare ir v1\n"))
        let a = try PareCLI.run(["dump-ir", m])
        let b = try PareCLI.run(["dump-ir", m])
        XCTAssertEqual(a.status, 0, a.summary)
        XCTAssertEqual(b.status, 0, b.summary)
        XCTAssertEqual(a.stdout, b.stdout, "two dumps of the same model differ")
        XCTAssertEqual(a.stdout, Data(file.utf8), "dump-ir to stdout differs from dump-ir -o")
        XCTAssertLessThan(a.stdout.count, 1 << 20, "a dump of a 135M-parameter model must not hold weights")
    }
}
