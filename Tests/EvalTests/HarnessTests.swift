// The evaluation loop with a fake model on planted problems: records, pass@1, resuming after an interruption,
// refusing a results file of another run; the protocols' prompts and program assembly; reading HumanEval files.
import Foundation
import PareEval
import XCTest

/// A model that answers each input with a scripted text, streamed through the same stop matcher as a real one.
final class FakeModel: CompletionModel {
    var chatTemplate: String?
    let answers: [String: String]
    var calls: [String] = []

    init(answers: [String: String], chatTemplate: String? = nil) {
        self.answers = answers
        self.chatTemplate = chatTemplate
    }

    func complete(_ input: String, maxTokens: Int, stops: [String]) throws -> Completion {
        calls.append(input)
        let answer = answers.first { input.contains($0.key) }?.value ?? ""
        var m = StopMatcher(stops)
        var tokens = 0
        for ch in answer {  // one character per "token"
            tokens += 1
            if m.push(String(ch)) || tokens == maxTokens { break }
        }
        let reason = m.stopIndex != nil ? "stop" : tokens == maxTokens ? "length" : "eos"
        return Completion(text: m.completion, tokens: tokens, promptTokens: input.count, stopReason: reason, seconds: 0.001)
    }
}

/// Planted problems: each prompt names its function; the tests call it.
let planted: [EvalProblem] = [
    EvalProblem(taskID: "Planted/pass", prompt: "def add(a, b):\n    \"\"\"Sum.\"\"\"\n",
                test: "def check(f):\n    assert f(2, 3) == 5\n", entryPoint: "add"),
    EvalProblem(taskID: "Planted/fail", prompt: "def sub(a, b):\n    \"\"\"Difference.\"\"\"\n",
                test: "def check(f):\n    assert f(5, 3) == 2\n", entryPoint: "sub"),
    EvalProblem(taskID: "Planted/hang", prompt: "def spin():\n    \"\"\"Never returns.\"\"\"\n",
                test: "def check(f):\n    f()\n", entryPoint: "spin"),
    EvalProblem(taskID: "Planted/crash", prompt: "def boom():\n    \"\"\"Aborts.\"\"\"\n",
                test: "def check(f):\n    f()\n", entryPoint: "boom"),
    EvalProblem(taskID: "Planted/memory", prompt: "def hog():\n    \"\"\"Wants 8 GiB.\"\"\"\n",
                test: "def check(f):\n    f()\n", entryPoint: "hog"),
]

/// The answers: the body of each function, then a stop sequence and junk a real model might add.
let plantedAnswers = [
    "def add(": "    return a + b\n\n\ndef junk():\n    raise SystemExit(1)\n",
    "def sub(": "    return a + b\n",
    "def spin(": "    while True:\n        pass\n",
    "def boom(": "    import os\n    os.abort()\n",
    "def hog(": "    return bytearray(8 << 30)\n",
]

final class HarnessTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("pare-eval-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func header(_ p: EvalProtocol = .codex, sha: String = "abc") -> RunHeader {
        RunHeader(protocol: p, model: "fake", model_sha256: sha, data_sha256: "data", max_tokens: 512, timeout_seconds: 1, memory_mb: 256)
    }

    func sandbox() throws -> PythonSandbox { try PythonSandbox(limits: SandboxLimits(wallSeconds: 1, addressSpaceBytes: 256 << 20)) }

    func testPlantedProblems() throws {
        var file = try ResultsFile(path: dir + "/r.jsonl", header: header(), restart: false)
        let model = FakeModel(answers: plantedAnswers)
        var seen: [Int] = []
        let s = try runHumanEval(planted, model: model, sandbox: try sandbox(), results: &file) { seen.append($0.done) }
        XCTAssertEqual(seen, [1, 2, 3, 4, 5])
        XCTAssertEqual(s.problems, 5)
        XCTAssertEqual(s.passed, 1)
        XCTAssertEqual(s.pass_at_1, 0.2, accuracy: 1e-12)
        let byTask = Dictionary(uniqueKeysWithValues: file.records.map { ($0.task_id, $0) })
        XCTAssertEqual(byTask["Planted/pass"]?.passed, true)
        XCTAssertEqual(byTask["Planted/pass"]?.completion, "    return a + b\n\n", "the completion ends at the stop sequence")
        XCTAssertEqual(byTask["Planted/pass"]?.stop_reason, "stop")
        XCTAssertEqual(byTask["Planted/fail"]?.error, .assertion)
        XCTAssertEqual(byTask["Planted/hang"]?.error, .timeout)
        XCTAssertEqual(byTask["Planted/crash"]?.error, .crash)
        XCTAssertEqual(byTask["Planted/memory"]?.error, .memory)
        XCTAssertEqual(s.failures, ["assertion": 1, "timeout": 1, "crash": 1, "memory": 1])
        // The file holds exactly what was returned.
        let back = try ResultsFile.read(dir + "/r.jsonl")
        XCTAssertEqual(back.header, header())
        XCTAssertEqual(back.records, file.records)
    }

    func testResumesAfterAnInterruption() throws {
        let path = dir + "/r.jsonl"
        do {
            var file = try ResultsFile(path: path, header: header(), restart: false)
            _ = try runHumanEval(Array(planted.prefix(2)), model: FakeModel(answers: plantedAnswers), sandbox: try sandbox(), results: &file)
        }
        // A write cut short by the interruption: half a record, no newline.
        let h = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        try h.seekToEnd()
        try h.write(contentsOf: Data(#"{"task_id": "Planted/hang", "compl"#.utf8))
        try h.close()

        var file = try ResultsFile(path: path, header: header(), restart: false)
        XCTAssertEqual(file.records.map(\.task_id), ["Planted/pass", "Planted/fail"], "the torn line is dropped")
        let model = FakeModel(answers: plantedAnswers)
        let s = try runHumanEval(Array(planted.prefix(3)), model: model, sandbox: try sandbox(), results: &file)
        XCTAssertEqual(model.calls.count, 1, "only the problem not yet done is generated")
        XCTAssertEqual(s.resumed, 2)
        XCTAssertEqual(s.problems, 3)
        XCTAssertEqual(try ResultsFile.read(path).records.map(\.task_id), ["Planted/pass", "Planted/fail", "Planted/hang"])
    }

    func testRefusesTheResultsOfAnotherRun() throws {
        let path = dir + "/r.jsonl"
        _ = try ResultsFile(path: path, header: header(sha: "one"), restart: false)
        XCTAssertThrowsError(try ResultsFile(path: path, header: header(sha: "two"), restart: false)) { e in
            guard case EvalError.resultsMismatch(_, let field, _, _) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(field, "model sha256")
            XCTAssertTrue(e.localizedDescription.contains("--restart"), e.localizedDescription)
        }
        XCTAssertThrowsError(try ResultsFile(path: path, header: header(.chat, sha: "one"), restart: false))
        let fresh = try ResultsFile(path: path, header: header(sha: "two"), restart: true)
        XCTAssertTrue(fresh.records.isEmpty)
    }

    func testCorruptResultsAreTypedErrors() throws {
        let path = dir + "/bad.jsonl"
        try Data("not json\n".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try ResultsFile.read(path)) { XCTAssertTrue($0 is EvalError, "\($0)") }
        try Data().write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try ResultsFile.read(path)) { XCTAssertTrue($0 is EvalError, "\($0)") }
    }

    func testComparisonPairsByTask() throws {
        func record(_ id: String, _ passed: Bool) -> ProblemRecord {
            ProblemRecord(task_id: id, completion: "", passed: passed, error: passed ? nil : .assertion, error_detail: nil, seconds: 0,
                          generation_seconds: 0, execution_seconds: 0, tokens: 0, prompt_tokens: 0, stop_reason: "stop")
        }
        let a = [record("1", true), record("2", true), record("3", false), record("4", true), record("only-a", true)]
        let b = [record("4", false), record("3", true), record("2", false), record("1", true)]
        let c = try EvalComparison(a: "a", records: a, b: "b", records: b)
        XCTAssertEqual(c.problems, 4)
        XCTAssertEqual(c.gained, ["3"])
        XCTAssertEqual(c.lost, ["2", "4"])
        XCTAssertEqual(c.passed_a, 3)
        XCTAssertEqual(c.passed_b, 2)
        XCTAssertEqual(c.unpaired, 1)
        XCTAssertEqual(c.mcnemar_p, mcnemarExactP(gained: 1, lost: 2))
        XCTAssertThrowsError(try EvalComparison(a: "a", records: [record("x", true)], b: "b", records: b))
    }

    func testCodexProgram() {
        let p = planted[0]
        let program = EvalProtocol.codex.program(for: p, solution: "    return a + b\n", marker: "M1")
        XCTAssertEqual(program, p.prompt + "    return a + b\n" + "\n\n" + p.test + "\n\ncheck(add)\nprint(\"M1\")\n")
        XCTAssertEqual(EvalProtocol.codex.solution(from: "```x```"), "```x```", "codex takes the completion as it is")
    }

    func testChatExtractsTheFirstCodeBlock() throws {
        let reply = "Here it is:\n```python\nfrom typing import List\n\ndef add(a, b):\n    return a + b\n```\nAnd a test:\n```python\nprint(1)\n```\n"
        let solution = EvalProtocol.chat.solution(from: reply)
        XCTAssertEqual(solution, "from typing import List\n\ndef add(a, b):\n    return a + b\n")
        let p = EvalProblem(taskID: "t", prompt: "import math\nfrom typing import List\n\ndef add(a, b):\n    \"\"\"Sum.\"\"\"\n",
                            test: "def check(f):\n    assert f(1, 2) == 3\n", entryPoint: "add")
        let program = EvalProtocol.chat.program(for: p, solution: solution, marker: "M")
        XCTAssertTrue(program.hasPrefix(p.prompt + "\nfrom typing import List\n\ndef add(a, b):"), "the prompt's helpers stay: \(program)")
        // A reply with only a body continues the prompt; an unclosed fence runs to the end.
        XCTAssertEqual(EvalProtocol.chat.solution(from: "```\n    return a + b\n"), "    return a + b\n")
        XCTAssertTrue(EvalProtocol.chat.program(for: p, solution: "    return a + b\n", marker: "M").hasPrefix(p.prompt + "    return a + b\n"))
        XCTAssertEqual(EvalProtocol.chat.solution(from: "no code at all"), "no code at all")
    }

    /// An answer that exits before the tests run is no pass: neither `sys.exit(0)` in the function nor a reply's own
    /// `unittest.main()` (whose `if __name__` block the chat protocol drops, so the real tests run).
    func testEarlyExitIsNotAPass() throws {
        let p = planted[1]  // sub(a, b): the test expects 5 - 3 == 2
        let exits = try score(p, completion: "    import sys\n    sys.exit(0)\n", protocol: .codex, sandbox: try sandbox())
        XCTAssertEqual(exits.failure, .earlyExit, exits.detail)
        let wrongWithMain = "```python\ndef sub(a, b):\n    return a + b\n\nif __name__ == \"__main__\":\n    import unittest\n    unittest.main()\n```"
        XCTAssertEqual(try score(p, completion: wrongWithMain, protocol: .chat, sandbox: try sandbox()).failure, .assertion)
        let rightWithMain = "```python\ndef sub(a, b):\n    return a - b\n\nif __name__ == '__main__':\n    import sys\n    sys.exit(0)\nprint('after')\n```"
        let o = try score(p, completion: rightWithMain, protocol: .chat, sandbox: try sandbox())
        XCTAssertTrue(o.passed, o.detail)
    }

    /// HumanEval/38-style: the tests call a helper the prompt defines; a chat reply that defines only the entry point passes.
    func testChatKeepsThePromptsHelpers() throws {
        let p = EvalProblem(taskID: "helper", prompt: "def encode(s):\n    return s[::-1]\n\n\ndef decode(s):\n    \"\"\"Inverse of encode.\"\"\"\n",
                            test: "def check(f):\n    assert f(encode('abc')) == 'abc'\n", entryPoint: "decode")
        let o = try score(p, completion: "```python\ndef decode(s):\n    return s[::-1]\n```", protocol: .chat, sandbox: try sandbox())
        XCTAssertTrue(o.passed, o.detail)
    }

    /// A file of an older harness is refused, or re-scored from its recorded completions when asked.
    func testRescoresAnOlderHarnessVersion() throws {
        let path = dir + "/r.jsonl"
        var old = header()
        old.harness = nil  // version 1 files have no harness field
        do {
            var file = try ResultsFile(path: path, header: old, restart: false)
            _ = try runHumanEval(Array(planted.prefix(2)), model: FakeModel(answers: plantedAnswers), sandbox: try sandbox(), results: &file)
        }
        XCTAssertThrowsError(try ResultsFile(path: path, header: header(), restart: false)) { e in
            XCTAssertTrue(e.localizedDescription.contains("--rescore"), e.localizedDescription)
        }
        var seen: [String] = []
        let file = try ResultsFile(path: path, header: header(), restart: false) { r in
            seen.append(r.task_id)
            return try rescored(r, problem: planted.first { $0.taskID == r.task_id }!, protocol: .codex, sandbox: try self.sandbox())
        }
        XCTAssertEqual(seen, ["Planted/pass", "Planted/fail"])
        XCTAssertEqual(file.records.map(\.passed), [true, false])
        XCTAssertEqual(try ResultsFile.read(path).header.harness, harnessVersion)
        // Another model is never re-scored.
        XCTAssertThrowsError(try ResultsFile(path: path, header: header(sha: "other"), restart: false) { $0 })
    }

    func testChatPromptWithSmolLM2sTemplate() throws {
        // SmolLM2-135M-Instruct's template, as its GGUF carries it.
        let template = #"{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"#
        let input = try EvalProtocol.chat.input(for: planted[0], chatTemplate: template)
        XCTAssertTrue(input.hasPrefix("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nComplete the following Python function."), input)
        XCTAssertTrue(input.hasSuffix("```python\ndef add(a, b):\n    \"\"\"Sum.\"\"\"\n```<|im_end|>\n<|im_start|>assistant\n"), input)
    }

    func testChatFormatSkipsTemplateSyntaxForTheSystemLiteral() throws {
        // Qwen2.5's template opens a system turn with an expression first; the literal comes later.
        let template = """
            {%- if tools %}{{- '<|im_start|>system\\n' }}{%- else %}
            {%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
            {%- else %}{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}{%- endif %}{%- endif %}
            """
        XCTAssertEqual(try ChatFormat(template: template).defaultSystem, "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.")
        XCTAssertNil(try ChatFormat(template: "{{ '<|im_start|>' + m.role }}").defaultSystem)
        XCTAssertThrowsError(try ChatFormat(template: "[INST] {{ m }} [/INST]")) { e in
            guard case EvalError.chatTemplate = e else { return XCTFail("\(e)") }
        }
        XCTAssertThrowsError(try EvalProtocol.chat.input(for: planted[0], chatTemplate: nil))
    }

    func testReadsHumanEvalFiles() throws {
        let lines = planted.map { p in
            String(decoding: try! JSONEncoder().encode(p), as: UTF8.self)
        }.joined(separator: "\n") + "\n"
        let plain = dir + "/he.jsonl"
        try Data(lines.utf8).write(to: URL(fileURLWithPath: plain))
        XCTAssertEqual(try loadHumanEval(plain), planted)
        let gz = Process()
        gz.executableURL = URL(fileURLWithPath: "/bin/sh")
        gz.arguments = ["-c", "gzip -k \"$0\"", plain]
        try gz.run()
        gz.waitUntilExit()
        XCTAssertEqual(try loadHumanEval(plain + ".gz"), planted)

        let bad = dir + "/bad.jsonl"
        try Data((lines + lines).utf8).write(to: URL(fileURLWithPath: bad))
        XCTAssertThrowsError(try loadHumanEval(bad)) { XCTAssertTrue("\($0)".contains("twice"), "\($0)") }
        try Data("{\"task_id\": 1}\n".utf8).write(to: URL(fileURLWithPath: bad))
        XCTAssertThrowsError(try loadHumanEval(bad)) { XCTAssertTrue($0.localizedDescription.contains("line 1"), $0.localizedDescription) }
        try Data("not gzip".utf8).write(to: URL(fileURLWithPath: bad + ".gz"))
        XCTAssertThrowsError(try loadHumanEval(bad + ".gz")) { XCTAssertTrue($0 is EvalError) }
        XCTAssertThrowsError(try loadHumanEval(dir + "/missing.jsonl")) { XCTAssertTrue($0 is EvalError) }
    }
}
