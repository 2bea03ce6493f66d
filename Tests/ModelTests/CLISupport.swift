// Running the built `pare` executable as a subprocess, temporary folders, and a tiny Hugging Face directory to corrupt.
import Foundation
import PareCheckpoint
import PareTokenizer
import XCTest

/// One finished `pare` invocation.
struct PareRun {
    var arguments: [String]
    var status: Int32
    var stdout: Data
    var stderr: Data
    /// Wall-clock seconds.
    var seconds: Double

    var out: String { String(decoding: stdout, as: UTF8.self) }
    var err: String { String(decoding: stderr, as: UTF8.self) }

    /// `pare a b c -> 3 (1.2 s); stderr: ...`, for assertion messages.
    var summary: String {
        "pare \(arguments.joined(separator: " ")) -> exit \(status) (\(String(format: "%.2f", seconds)) s)\nstderr: \(err.prefix(2000))"
    }
}

/// Why `pare` could not be run at all.
enum PareCLIError: Error, LocalizedError {
    case executableMissing(searched: [String])
    case timedOut(arguments: [String], seconds: Double)

    var errorDescription: String? {
        switch self {
        case .executableMissing(let searched):
            return "the `pare` executable was not found (looked at: \(searched.joined(separator: ", "))); "
                + "build it with `swift build -c release` or run the tests with `swift test -c release`, or set PARE_EXECUTABLE"
        case let .timedOut(args, s): return "pare \(args.joined(separator: " ")) did not finish within \(Int(s)) s"
        }
    }
}

/// The `pare` command line, run as a child process.
enum PareCLI {
    /// Where `pare` may be, most specific first: `$PARE_EXECUTABLE`; next to the running test binary (on Linux
    /// `swift test` runs `<scratch>/<triple>/<config>/<Package>PackageTests.xctest`, an executable, and builds
    /// `pare` in the same folder: /proc/self/exe finds it); beside or inside `Bundle(for:).bundleURL` (on Linux that
    /// URL is the build folder itself, on macOS the .xctest bundle, whose parent holds `pare`); and
    /// `<root>/.build/release/pare` as a last resort (may be stale).
    /// Other executables of the package (`pare-plan-dump`) are found the same way, without the variable.
    static func candidates(_ tool: String = "pare") -> [String] {
        var c: [String] = []
        if tool == "pare", let env = ProcessInfo.processInfo.environment["PARE_EXECUTABLE"] { c.append(env) }
        let selfExe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        c.append(selfExe.deletingLastPathComponent().appendingPathComponent(tool).path)
        c.append(Bundle(for: CLITests.self).bundleURL.deletingLastPathComponent().appendingPathComponent(tool).path)
        c.append(Bundle(for: CLITests.self).bundleURL.appendingPathComponent(tool).path)
        c.append(Paths.root + "/.build/release/" + tool)
        var seen = Set<String>()
        return c.filter { seen.insert($0).inserted }
    }

    /// The first candidate that is an executable file.
    static func executable(_ tool: String = "pare") throws -> String {
        let all = candidates(tool)
        guard let found = all.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw PareCLIError.executableMissing(searched: all)
        }
        return found
    }

    /// Runs `pare args...` with stdout and stderr captured in files (no pipe can fill up and block the child),
    /// in `directory` if given, with `environment` added to this process's environment. Kills it after `timeout` s.
    static func run(_ args: [String], in directory: String? = nil, environment: [String: String] = [:],
                    timeout: Double = 600, tool: String = "pare") throws -> PareRun {
        let exe = try executable(tool)
        let scratch = try TempDir(prefix: "pare-run")
        let outPath = scratch.path + "/stdout", errPath = scratch.path + "/stderr"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let outHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        defer { try? outHandle.close(); try? errHandle.close() }

        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = outHandle
        p.standardError = errHandle
        if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let start = Date()
        try p.run()
        while p.isRunning {
            if Date().timeIntervalSince(start) > timeout {
                p.terminate()
                p.waitUntilExit()
                throw PareCLIError.timedOut(arguments: args, seconds: timeout)
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        p.waitUntilExit()
        return PareRun(arguments: args, status: p.terminationStatus,
                       stdout: try Data(contentsOf: URL(fileURLWithPath: outPath)),
                       stderr: try Data(contentsOf: URL(fileURLWithPath: errPath)),
                       seconds: Date().timeIntervalSince(start))
    }
}

extension PareCLI {
    /// Runs another executable of the package (`pare-plan-dump`) like `run`.
    static func runTool(_ tool: String, _ args: [String]) throws -> PareRun { try run(args, tool: tool) }
}

/// A fresh temporary directory, removed when the last reference goes away.
final class TempDir {
    let path: String

    init(prefix: String = "pare-test") throws {
        path = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("\(prefix)-\(getpid())-\(UUID().uuidString.prefix(8))")
            .standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// `path/name`.
    func file(_ name: String) -> String { path + "/" + name }

    /// Writes `data` to `name` and returns its path.
    @discardableResult
    func write(_ name: String, _ data: Data) throws -> String {
        try data.write(to: URL(fileURLWithPath: file(name)))
        return file(name)
    }

    /// Writes UTF-8 text to `name` and returns its path.
    @discardableResult
    func write(_ name: String, text: String) throws -> String { try write(name, Data(text.utf8)) }

    /// The names in the directory, sorted (hidden files included, e.g. a leftover `.out.pir.tmp-123`).
    func listing() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path).sorted() }
}

/// A tiny llama-architecture Hugging Face directory that `pare` lifts: hidden 8, 2 heads, 1 KV head, 1 block,
/// FFN 16, vocabulary of the 256 byte tokens, float32 weights with deterministic values. Tests write it and then
/// break one file at a time, so a failure can only come from that file.
enum TinyHF {
    static let hidden = 8, heads = 2, kvHeads = 1, layers = 1, ffn = 16, vocab = 256

    /// config.json as a dictionary, to edit before `configJSON`.
    static var config: [String: Any] {
        ["architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": hidden, "intermediate_size": ffn,
         "num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": kvHeads,
         "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "vocab_size": vocab, "max_position_embeddings": 64,
         "tie_word_embeddings": true, "hidden_act": "silu", "bos_token_id": 0, "eos_token_id": 1]
    }

    static func configJSON(_ c: [String: Any]) throws -> Data {
        try JSONSerialization.data(withJSONObject: c, options: [.sortedKeys, .prettyPrinted])
    }

    /// A byte-level BPE tokenizer.json over the 256 byte tokens, with no merges.
    static func tokenizerJSON() throws -> Data {
        var vocab: [String: Int] = [:]
        for b in 0..<256 { vocab[ByteLevel.encode(bytes: [UInt8(b)])] = b }
        let root: [String: Any] = [
            "version": "1.0",
            "added_tokens": [] as [Any],
            "normalizer": NSNull(),
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
            "post_processor": NSNull(),
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
                      "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                      "vocab": vocab, "merges": [] as [Any]],
        ]
        return try JSONSerialization.data(withJSONObject: root, options: [.sortedKeys])
    }

    /// model.safetensors with every tensor the config implies (names and shapes from `HFTensorName`), float32.
    static func safetensors() throws -> Data {
        let m = ModelConfig(architecture: "llama", name: "tiny", hidden: hidden, layers: layers, heads: heads, kvHeads: kvHeads,
                            headDim: hidden / heads, ffn: ffn, vocabSize: vocab, rmsNormEps: 1e-5, ropeTheta: 10000,
                            contextLength: 64, tiedEmbeddings: true, attentionBias: false)
        var header: [String: Any] = ["__metadata__": ["format": "pt"]]
        var body = Data()
        for (i, t) in HFTensorName.expectedTensors(for: m).enumerated() {
            let count = t.shape.reduce(1, *)
            let begin = body.count
            for j in 0..<count {
                // Small, varied, deterministic values: norms near 1, matrices near 0.
                let v: Float = t.shape.count == 1 ? 1 + Float(j % 5) * 0.01 : Float((i * 31 + j * 7) % 23 - 11) * 0.01
                withUnsafeBytes(of: v.bitPattern.littleEndian) { body.append(contentsOf: $0) }
            }
            header[t.name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [begin, body.count]]
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        return out + json + body
    }

    /// Writes a complete, valid directory `name` inside `dir` and returns its path.
    static func write(in dir: TempDir, name: String = "tiny-hf") throws -> String {
        let path = dir.file(name)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try configJSON(config).write(to: URL(fileURLWithPath: path + "/config.json"))
        try tokenizerJSON().write(to: URL(fileURLWithPath: path + "/tokenizer.json"))
        try safetensors().write(to: URL(fileURLWithPath: path + "/model.safetensors"))
        return path
    }
}

extension XCTestCase {
    /// Asserts a run exited with `status` and that stderr contains every fragment (case-sensitive).
    /// `context` names the case in messages.
    func assertFailure(_ r: PareRun, status: Int32, stderrContains fragments: [String], context: String = "",
                       file: StaticString = #filePath, line: UInt = #line) {
        let what = context.isEmpty ? "" : "[\(context)] "
        if ProcessInfo.processInfo.environment["PARE_TEST_VERBOSE"] != nil { print("\(what)\(r.summary)") }
        XCTAssertEqual(r.status, status, "\(what)wrong exit status: \(r.summary)", file: file, line: line)
        for f in fragments {
            XCTAssertTrue(r.err.contains(f), "\(what)stderr lacks \"\(f)\": \(r.summary)", file: file, line: line)
        }
        XCTAssertFalse(r.err.contains("Fatal error") || r.err.contains("Stack dump"), "\(what)pare crashed: \(r.summary)",
                       file: file, line: line)
    }
}
