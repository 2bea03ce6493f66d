// `pare eval` end to end on a real model (SmolLM2-135M): compiling a checkpoint into the plan cache, planted problems
// whose outcome does not depend on the model, a real HumanEval prompt, resuming, the chat protocol, and comparison.
import Foundation
import XCTest

final class EvalCLITests: XCTestCase {
    /// Planted problems (a test that checks nothing, one that always fails) and HumanEval/0's real prompt. What the
    /// model writes decides whether a program parses, so each outcome is checked against python3 run here on the
    /// same program; the planted outcomes themselves are tested with a fake model in EvalTests.
    static let problems: [[String: String]] = [
        ["task_id": "Planted/always-passes", "prompt": "def f(x):\n    \"\"\"Return x.\"\"\"\n", "test": "def check(candidate):\n    pass\n",
         "entry_point": "f"],
        ["task_id": "Planted/always-fails", "prompt": "def g(x):\n    \"\"\"Return x.\"\"\"\n",
         "test": "def check(candidate):\n    assert False, 'planted failure'\n", "entry_point": "g"],
        ["task_id": "HumanEval/0", "prompt": "from typing import List\n\n\ndef has_close_elements(numbers: List[float], threshold: float) -> bool:\n    \"\"\" Check if in given list of numbers, are any two numbers closer to each other than\n    given threshold.\n    >>> has_close_elements([1.0, 2.0, 3.0], 0.5)\n    False\n    >>> has_close_elements([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3)\n    True\n    \"\"\"\n",
         "test": "def check(candidate):\n    assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) == True\n    assert candidate([1.0, 2.0, 5.9, 4.0, 5.0], 0.95) == True\n    assert candidate([1.0, 2.0, 3.0, 4.0, 5.0], 2.0) == False\n",
         "entry_point": "has_close_elements"],
    ]

    func writeProblems(_ dir: String) throws -> String {
        let path = dir + "/planted.jsonl"
        let lines = try Self.problems.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self) }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func json(_ run: PareRun) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any], run.summary)
    }

    func testCodexOnACheckpointResumesAndCompares() throws {
        let smol = try Paths.require(Paths.smolGGUF)
        let dir = try temporaryFolder("eval-cli")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = try writeProblems(dir)
        let args = ["eval", "humaneval", smol, "--data", data, "--results", dir + "/results", "--max-tokens", "48", "--timeout", "5", "--json"]
        let env = ["PARE_CACHE": dir + "/cache"]

        let first = try PareCLI.run(args, environment: env)
        XCTAssertEqual(first.status, 0, first.summary)
        let run = try XCTUnwrap((try json(first))["runs"] as? [[String: Any]]).first ?? [:]
        XCTAssertEqual(run["problems"] as? Int, 3)
        XCTAssertEqual(run["protocol"] as? String, "codex")
        XCTAssertEqual(run["resumed"] as? Int, 0)
        let passed = try XCTUnwrap(run["passed"] as? Int)
        XCTAssertLessThanOrEqual(passed, 2, "the planted failure fails: \(first.out)")
        XCTAssertTrue(first.err.contains("compiling"), first.err)
        XCTAssertTrue(first.err.contains("ETA"), "progress with an ETA: \(first.err)")

        // The results file: a header naming the cached plan's plan.pb hash, then one record per problem.
        let resultsPath = dir + "/results/SmolLM2-135M-Instruct.Q4_1-codex.jsonl"
        let lines = try String(contentsOfFile: resultsPath, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 4)
        let records = try lines.dropFirst().map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let byTask = Dictionary(uniqueKeysWithValues: records.map { ($0["task_id"] as? String ?? "", $0) })
        XCTAssertEqual(byTask["Planted/always-fails"]?["passed"] as? Bool, false)
        XCTAssertEqual(records.filter { $0["passed"] as? Bool == true }.count, passed)
        for (problem, r) in zip(Self.problems, records) {
            let completion = try XCTUnwrap(r["completion"] as? String)
            // The record's verdict is python3's on prompt + completion + tests + check(entry_point).
            let program = problem["prompt"]! + completion + "\n\n" + problem["test"]! + "\n\ncheck(\(problem["entry_point"]!))\n"
            XCTAssertEqual(r["passed"] as? Bool, try pythonAccepts(program, in: dir), "\(problem["task_id"]!): \(completion)")
            for stop in ["\nclass", "\ndef", "\n#", "\nif", "\nprint"] {
                XCTAssertFalse(completion.contains(stop), "a completion runs past the stop sequence \(stop.debugDescription): \(completion)")
            }
            XCTAssertTrue(["stop", "eos", "length"].contains(r["stop_reason"] as? String ?? ""), "\(r)")
            XCTAssertLessThanOrEqual(r["tokens"] as? Int ?? 99, 48)
        }
        let plans = try FileManager.default.contentsOfDirectory(atPath: dir + "/cache/plans")
        XCTAssertEqual(plans.count, 1, "\(plans)")
        let planSHA = try sha256OfFile(dir + "/cache/plans/" + plans[0] + "/plan.pb")
        XCTAssertEqual(run["model_sha256"] as? String, planSHA)

        // Again: nothing is generated or compiled, every problem comes from the file.
        let again = try PareCLI.run(args, environment: env)
        XCTAssertEqual(again.status, 0, again.summary)
        let rerun = try XCTUnwrap((try json(again))["runs"] as? [[String: Any]]).first ?? [:]
        XCTAssertEqual(rerun["resumed"] as? Int, 3)
        XCTAssertEqual(rerun["passed"] as? Int, passed)
        XCTAssertTrue(again.err.contains("compiled earlier"), again.err)

        // Other settings do not continue this file.
        let other = try PareCLI.run(args.filter { $0 != "--json" }.map { $0 == "48" ? "40" : $0 }, environment: env)
        XCTAssertEqual(other.status, 3, other.summary)
        XCTAssertTrue(other.err.contains("max tokens"), other.err)

        // A file compared with itself: nothing gained or lost, p = 1.
        let same = try PareCLI.run(["eval", "compare", resultsPath, resultsPath, "--json"])
        XCTAssertEqual(same.status, 0, same.summary)
        let c = try json(same)
        XCTAssertEqual(c["mcnemar_p"] as? Double, 1)
        XCTAssertEqual((c["gained"] as? [String])?.count, 0)
    }

    func testChatProtocolUsesTheModelsTemplate() throws {
        let smol = try Paths.require(Paths.smolGGUF)
        let dir = try temporaryFolder("eval-chat")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = try writeProblems(dir)
        let r = try PareCLI.run(["eval", "humaneval", smol, "--protocol", "chat", "--data", data, "--limit", "1", "--results", dir,
                                 "--max-tokens", "32", "--json"], environment: ["PARE_CACHE": dir + "/cache"])
        XCTAssertEqual(r.status, 0, r.summary)
        let run = try XCTUnwrap((try json(r))["runs"] as? [[String: Any]]).first ?? [:]
        XCTAssertEqual(run["protocol"] as? String, "chat")
        XCTAssertEqual(run["passed"] as? Int, 1, "the planted problem passes whatever the reply")
    }

    func testBadArgumentsAndInputs() throws {
        let smol = try Paths.require(Paths.smolGGUF)
        let dir = try temporaryFolder("eval-bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for bad in [["--timeout", "0"], ["--max-tokens", "0"], ["--limit", "0"], ["--memory-mb", "1"], ["--protocol", "fim"]] {
            let r = try PareCLI.run(["eval", "humaneval", smol] + bad)
            XCTAssertEqual(r.status, 64, r.summary)
        }
        let missing = try PareCLI.run(["eval", "humaneval", dir + "/nope.gguf", "--data", try writeProblems(dir)])
        XCTAssertEqual(missing.status, 3, missing.summary)
        try Data("{\"task_id\": 3}\n".utf8).write(to: URL(fileURLWithPath: dir + "/bad.jsonl"))
        let badData = try PareCLI.run(["eval", "humaneval", smol, "--data", dir + "/bad.jsonl"])
        XCTAssertEqual(badData.status, 3, badData.summary)
        XCTAssertTrue(badData.err.contains("line 1"), badData.err)
        let badCompare = try PareCLI.run(["eval", "compare", dir + "/bad.jsonl", dir + "/bad.jsonl"])
        XCTAssertEqual(badCompare.status, 3, badCompare.summary)
    }
}

/// True when python3 runs `program` to exit status 0 (run directly, not through Pare's sandbox).
func pythonAccepts(_ program: String, in dir: String) throws -> Bool {
    let file = dir + "/check-\(UUID().uuidString).py"
    try Data(program.utf8).write(to: URL(fileURLWithPath: file))
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", file]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
    return p.terminationStatus == 0
}

/// SHA-256 of a file, by the system's sha256sum (independent of Pare's own).
func sha256OfFile(_ path: String) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    p.arguments = [path]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return String(text.prefix(64))
}
