// The evaluation loop: for each problem not yet in the results file, generate, assemble the program, run it in
// the sandbox, append the record; report progress with an ETA; summarise pass@1 over the problems asked for.
import Foundation

/// One finished problem, for progress reports.
public struct EvalProgress: Sendable {
    /// Problems finished, including those resumed from the file.
    public var done: Int
    public var total: Int
    public var passed: Int
    public var record: ProblemRecord
    /// Estimated seconds left, from this run's mean seconds per problem.
    public var etaSeconds: Double
}

/// pass@1 and the counts behind it (the `--json` summary of `pare eval humaneval`).
public struct EvalSummary: Codable, Sendable {
    public var benchmark = "humaneval"
    public var `protocol`: EvalProtocol
    public var model: String
    public var model_sha256: String
    public var results: String
    public var problems: Int
    public var passed: Int
    public var pass_at_1: Double
    /// Failures by kind.
    public var failures: [String: Int]
    /// Problems whose generation ended at max tokens or a full context.
    public var truncated: Int
    public var tokens: Int
    /// Wall seconds of this invocation, and of generation and execution summed over every record.
    public var seconds: Double
    public var generation_seconds: Double
    public var execution_seconds: Double
    /// Problems taken from the results file of an earlier, interrupted run.
    public var resumed: Int

    /// The summary of `records` (one per problem asked for).
    init(header: RunHeader, results: String, records: [ProblemRecord], seconds: Double, resumed: Int) {
        `protocol` = header.protocol
        model = header.model
        model_sha256 = header.model_sha256
        self.results = results
        problems = records.count
        passed = records.filter(\.passed).count
        pass_at_1 = records.isEmpty ? 0 : Double(passed) / Double(records.count)
        failures = Dictionary(grouping: records.compactMap(\.error), by: \.rawValue).mapValues(\.count)
        truncated = records.filter { $0.stop_reason == "length" || $0.stop_reason == "context" }.count
        tokens = records.reduce(0) { $0 + $1.tokens }
        self.seconds = seconds
        generation_seconds = records.reduce(0) { $0 + $1.generation_seconds }
        execution_seconds = records.reduce(0) { $0 + $1.execution_seconds }
        self.resumed = resumed
    }
}

/// Runs `problems` through `model` with `results.header`'s protocol and settings, skipping problems the file
/// already has. Calls `progress` after each problem.
public func runHumanEval(_ problems: [EvalProblem], model: CompletionModel, sandbox: PythonSandbox, results: inout ResultsFile,
                         progress: (EvalProgress) -> Void = { _ in }) throws -> EvalSummary {
    let start = Date()
    let h = results.header
    var byTask = Dictionary(results.records.map { ($0.task_id, $0) }, uniquingKeysWith: { a, _ in a })
    let resumed = problems.filter { byTask[$0.taskID] != nil }.count
    var done = resumed, passed = problems.filter { byTask[$0.taskID]?.passed == true }.count, ranHere = 0
    for p in problems where byTask[p.taskID] == nil {
        let input = try h.protocol.input(for: p, chatTemplate: model.chatTemplate)
        let c = try model.complete(input, maxTokens: h.max_tokens, stops: h.protocol.stops)
        let o = try score(p, completion: c.text, protocol: h.protocol, sandbox: sandbox)
        let record = ProblemRecord(task_id: p.taskID, completion: c.text, passed: o.passed, error: o.failure,
                                   error_detail: o.passed ? nil : o.detail, seconds: c.seconds + o.seconds,
                                   generation_seconds: c.seconds, execution_seconds: o.seconds, tokens: c.tokens,
                                   prompt_tokens: c.promptTokens, stop_reason: c.stopReason)
        try results.append(record)
        byTask[p.taskID] = record
        done += 1
        ranHere += 1
        if o.passed { passed += 1 }
        let perProblem = Date().timeIntervalSince(start) / Double(ranHere)
        progress(EvalProgress(done: done, total: problems.count, passed: passed, record: record,
                              etaSeconds: perProblem * Double(problems.count - done)))
    }
    return EvalSummary(header: h, results: results.path, records: problems.compactMap { byTask[$0.taskID] },
                       seconds: Date().timeIntervalSince(start), resumed: resumed)
}

/// Runs the program of `completion` for `problem`; it passes when it exits 0 after printing a fresh random marker.
public func score(_ problem: EvalProblem, completion: String, protocol p: EvalProtocol, sandbox: PythonSandbox) throws -> ProgramOutcome {
    let marker = "pare-eval-done-" + UUID().uuidString
    return try sandbox.run(p.program(for: problem, solution: p.solution(from: completion), marker: marker), marker: marker)
}

/// `record` re-scored under this harness: its completion's program run again, the outcome and seconds replaced.
public func rescored(_ record: ProblemRecord, problem: EvalProblem, protocol p: EvalProtocol, sandbox: PythonSandbox) throws -> ProblemRecord {
    let o = try score(problem, completion: record.completion, protocol: p, sandbox: sandbox)
    var r = record
    r.passed = o.passed
    r.error = o.failure
    r.error_detail = o.passed ? nil : o.detail
    r.execution_seconds = o.seconds
    r.seconds = r.generation_seconds + o.seconds
    return r
}

/// Problems gained and lost from A to B, and the exact McNemar p-value (`pare eval compare`).
public struct EvalComparison: Codable, Sendable {
    public var a: String
    public var b: String
    /// Problems both files have.
    public var problems: Int
    public var passed_a: Int
    public var passed_b: Int
    /// Passed by B, failed by A.
    public var gained: [String]
    /// Passed by A, failed by B.
    public var lost: [String]
    public var mcnemar_p: Double
    /// Problems only one file has (left out of the comparison).
    public var unpaired: Int

    /// Pairs the records of `a` and `b` by task id.
    public init(a: String, records ra: [ProblemRecord], b: String, records rb: [ProblemRecord]) throws {
        let mb = Dictionary(rb.map { ($0.task_id, $0.passed) }, uniquingKeysWith: { x, _ in x })
        let paired = ra.filter { mb[$0.task_id] != nil }
        guard !paired.isEmpty else { throw EvalError.nothingToCompare("\(a) and \(b) share no task id") }
        self.a = a
        self.b = b
        problems = paired.count
        passed_a = paired.filter(\.passed).count
        passed_b = paired.filter { mb[$0.task_id]! }.count
        gained = paired.filter { !$0.passed && mb[$0.task_id]! }.map(\.task_id)
        lost = paired.filter { $0.passed && !mb[$0.task_id]! }.map(\.task_id)
        mcnemar_p = mcnemarExactP(gained: gained.count, lost: lost.count)
        unpaired = ra.count + rb.count - 2 * paired.count
    }
}
