// `pare eval humaneval MODEL...` and `pare eval compare A.jsonl B.jsonl`: pass@1 of plans run by the runtime,
// and whether a difference between two runs is more than chance.
import ArgumentParser
import Foundation
import PareEval
import PareFrontend
import PareIR
import PareLowering
import ParePlan

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure models by the code they write (HumanEval pass@1), and compare runs with a paired test.",
        subcommands: [EvalHumanEval.self, EvalCompare.self])
}

extension EvalProtocol: ExpressibleByArgument {}

struct EvalHumanEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "humaneval",
        abstract: "HumanEval pass@1 of plans, .pir modules or checkpoints, each run by Pare's runtime.",
        discussion: """
            Each problem's prompt is given to the model, greedily, and the program built from the answer runs in \
            `python3 -I` in a fresh temporary directory with a wall-time limit (--timeout), an address-space limit \
            (--memory-mb), no environment of the caller's, and its own process group, killed when the time is up. \
            A timeout, crash or exception is a failure, never a hang. A program passes when it exits 0 after \
            printing a random marker that follows check(entry_point): an answer that exits early (sys.exit, \
            unittest.main) does not pass. Generation ends at an end-of-sequence, end-of-turn or other control token.

            Protocols (named in every result):
              codex  the raw prompt is completed; generation ends at the first of \
            \(EvalProtocol.codexStops.map { $0.debugDescription }.joined(separator: ", ")) \
            (checked on the text as it streams), at an end token, or at --max-tokens; the program is prompt + \
            completion + the tests + check(entry_point). (Chen et al. 2021.)
              chat   the model's own chat template (ChatML: Qwen2, SmolLM2) wraps an instruction to complete the \
            function; the first fenced code block of the reply, without its `if __name__` blocks, follows the \
            prompt (so the prompt's imports and helpers stay; a definition in the reply overrides the prompt's).

            MODEL is a plan directory (`pare compile`), or a checkpoint or .pir, which is first compiled with \
            --passes (default none: as it is) into the plan cache ($PARE_CACHE/plans, else ~/.cache/pare/plans) \
            and reused from there. Results go to one JSON Lines file per model (a header, then one record per \
            problem: task_id, completion, passed, error kind and detail, seconds, tokens, stop reason), written as \
            each problem finishes: run the same command again after an interruption and it continues. Progress \
            with an ETA goes to standard error.

            With several models, a table compares each with the first: pass@1, problems gained and lost, and the \
            exact McNemar p-value (see `pare eval compare`).

            Examples:
              pare eval humaneval dense.pare pruned.pare
              pare eval humaneval qwen.gguf --limit 20 --json
              pare eval humaneval pruned.pare --protocol chat --results eval/
            """)

    @Argument(help: ArgumentHelp("Plan directories, .pir files or checkpoints.", valueName: "model"))
    var models: [String]

    @Option(help: "codex (raw completion, stop sequences) or chat (chat template, fenced code block).")
    var `protocol`: EvalProtocol = .codex

    @Option(help: "Tokens generated per problem at most (1-4096).")
    var maxTokens = 512

    @Option(help: "Evaluate only the first N problems.")
    var limit: Int?

    @Option(help: ArgumentHelp("HumanEval.jsonl.gz (default: the one scripts/fetch-models.sh puts in .cache/data/).", valueName: "file"))
    var data: String?

    @Option(help: ArgumentHelp("Folder of the results files, one per model: NAME-PROTOCOL.jsonl.", valueName: "dir"))
    var results = "eval"

    @Option(help: "Wall-clock seconds each program may run (0.1-600).")
    var timeout = 10.0

    @Option(help: "Address space of each program in MB (64-65536).")
    var memoryMb = 2048

    @Option(help: ArgumentHelp("Pruning pipeline for a MODEL that is not yet a plan ('none': compile it as it is).", valueName: "pipeline"))
    var passes = "none"

    @Option(help: ArgumentHelp("How a MODEL that is not yet a plan stores its matrices (as `pare compile --weights`).", valueName: "source|f32|f16|q8|q4"))
    var weights: WeightFormat = Compile.defaultWeights

    @Flag(help: "Discard existing results files instead of continuing them.")
    var restart = false

    @Flag(help: "A results file of an older harness version (same model, data and settings): re-run its recorded programs under this harness instead of refusing it.")
    var rescore = false

    @Flag(help: "Print a JSON summary on standard output: {\"runs\": [...], \"comparisons\": [...]}.")
    var json = false

    func validate() throws {
        guard !models.isEmpty else { throw ValidationError("give at least one MODEL") }
        guard (1...4096).contains(maxTokens) else { throw ValidationError("--max-tokens must be between 1 and 4096, got \(maxTokens)") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, got \(limit)") }
        guard timeout.isFinite, (0.1...600).contains(timeout) else { throw ValidationError("--timeout must be between 0.1 and 600 seconds, got \(timeout)") }
        guard (64...65536).contains(memoryMb) else { throw ValidationError("--memory-mb must be between 64 and 65536, got \(memoryMb)") }
        let names = models.map(resultName)
        if let dup = names.first(where: { n in names.filter { $0 == n }.count > 1 }) {
            throw ValidationError("two models would write the same results file \(results)/\(dup)-\(`protocol`.rawValue).jsonl; rename one")
        }
    }

    struct Output: Encodable {
        var runs: [EvalSummary]
        var comparisons: [EvalComparison]
    }

    func run() throws {
        try reportingErrors {
            let dataPath = try data ?? defaultHumanEvalPath()
            var problems = try loadHumanEval(dataPath)
            if let limit { problems = Array(problems.prefix(limit)) }
            let dataSHA = try sha256Hex(file: dataPath)
            let sandbox = try PythonSandbox(limits: SandboxLimits(wallSeconds: timeout, addressSpaceBytes: Int64(memoryMb) << 20))
            var summaries: [EvalSummary] = []
            var recordSets: [[ProblemRecord]] = []
            for model in models {
                let planPath = try planFor(model)
                note("pare eval humaneval: \(model) (\(`protocol`.rawValue), \(problems.count) problems, max \(maxTokens) tokens)")
                let open = try OpenPlan(planPath)
                let planSHA = try sha256Hex(file: planPath + "/" + PlanDirectory.planFile)
                let header = RunHeader(protocol: `protocol`, model: model, model_sha256: planSHA, data_sha256: dataSHA,
                                       max_tokens: maxTokens, timeout_seconds: timeout, memory_mb: memoryMb)
                let byTask = Dictionary(uniqueKeysWithValues: problems.map { ($0.taskID, $0) })
                let proto = `protocol`
                var file = try ResultsFile(path: "\(results)/\(resultName(model))-\(proto.rawValue).jsonl", header: header, restart: restart,
                                           rescore: !rescore ? nil : { r in
                    guard let problem = byTask[r.task_id] else { return r }  // outside --limit: kept as it was
                    return try rescored(r, problem: problem, protocol: proto, sandbox: sandbox)
                })
                let template = open.loaded.plan.provenance.metadata.first { $0.key == MetaKey.chatTemplate }?.value
                // Generation ends at eos/eot and at any other control token, whose text must not enter a program.
                let t = open.loaded.plan.tokenizer
                let ends = open.stop.union(t.kinds.indices.filter { t.kinds[$0] == TokenKind.control.rawValue })
                let longest = problems.map { $0.prompt.utf8.count }.max() ?? 0
                let lm = try PlanCompletionModel(runtime: open.runtime, tokenizer: open.tokenizer, endIDs: ends, chatTemplate: template,
                                                 context: longest + 512 + maxTokens)  // a token is at least one byte
                let summary = try runHumanEval(problems, model: lm, sandbox: sandbox, results: &file) { p in
                    let r = p.record
                    let status = r.passed ? "passed" : "failed (\(r.error?.rawValue ?? "?"))"
                    note(String(format: "  [%3d/%d] %@ %@  %d tokens %.1f s + run %.2f s  pass@1 so far %d/%d  ETA %@",
                                p.done, p.total, r.task_id, status, r.tokens, r.generation_seconds, r.execution_seconds,
                                p.passed, p.done, duration(p.etaSeconds)))
                }
                if summary.resumed > 0 { note("  \(summary.resumed) problems were already in \(file.path)") }
                note(describe(summary))
                summaries.append(summary)
                recordSets.append(problems.compactMap { p in file.records.first { $0.task_id == p.taskID } })
            }
            var comparisons: [EvalComparison] = []
            for i in summaries.indices.dropFirst() {
                comparisons.append(try EvalComparison(a: summaries[0].results, records: recordSets[0], b: summaries[i].results, records: recordSets[i]))
            }
            if !comparisons.isEmpty { note(comparisonTable(summaries, comparisons)) }
            if json { try printJSON(Output(runs: summaries, comparisons: comparisons)) }
        }
    }

    /// The results-file stem of a model path: its last component without extension.
    func resultName(_ model: String) -> String {
        let last = URL(fileURLWithPath: model).standardizedFileURL.lastPathComponent
        return (last as NSString).deletingPathExtension
    }

    /// `model` itself when it is a plan; else the cached plan compiled from it with --passes (compiled now if absent).
    func planFor(_ model: String) throws -> String {
        if isPlan(model) { return model }
        let source = absolutePath(model)
        // The content: a file's SHA-256, or a Hugging Face directory's digest over config and weights.
        let identity = try detectFormat(source) == .huggingFace ? try huggingFaceDigest(source) : try sha256Hex(file: source)
        let key = Data([identity, source, passes, weights.rawValue, pareVersion].joined(separator: "\n").utf8).withUnsafeBytes(sha256Hex).prefix(16)
        let dir = planCacheDirectory() + "/\(resultName(model))-\(key).pare"
        if isPlan(dir), (try? PlanDirectory.read(dir, verifyChecksums: false)) != nil {
            note("pare eval: using the plan compiled earlier from \(model): \(dir)")
            return dir
        }
        note("pare eval: compiling \(model) (--passes \(passes), --weights \(weights.rawValue)) into \(dir)")
        // No KL budget: the evaluation measures the pipeline asked for, not what the default budget would keep.
        let compile = try Compile.parse([model, "--passes", passes, "--weights", weights.rawValue, "--kl-budget", "none", "-o", dir])
        try compile.run()
        return dir
    }
}

struct EvalCompare: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Problems gained and lost between two results files, and the exact McNemar p-value.",
        discussion: """
            Pairs the problems of A and B by task id. A problem passed by one run only is discordant; under the \
            hypothesis that A and B are equally good, each discordant problem is as likely to go either way, so the \
            number gained is Binomial(gained + lost, 1/2). The two-sided exact p-value says how often chance alone \
            gives a split at least this uneven: a difference of 2 problems out of 164 is not a finding (p near 0.5 \
            or above); p < 0.05 is the usual threshold for one.

            Example:
              pare eval compare eval/dense-codex.jsonl eval/pruned-codex.jsonl
            """)

    @Argument(help: ArgumentHelp("The baseline results file.", valueName: "A.jsonl"))
    var a: String
    @Argument(help: ArgumentHelp("The results file compared with it.", valueName: "B.jsonl"))
    var b: String
    @Flag(help: "Print the comparison as JSON.")
    var json = false

    func run() throws {
        try reportingErrors {
            let ra = try ResultsFile.read(a), rb = try ResultsFile.read(b)
            if ra.header.protocol != rb.header.protocol {
                note("warning: A used the \(ra.header.protocol.rawValue) protocol and B the \(rb.header.protocol.rawValue) protocol")
            }
            let c = try EvalComparison(a: a, records: ra.records, b: b, records: rb.records)
            if json { try printJSON(c); return }
            print(String(format: "%d problems in both: A passed %d, B passed %d; B gained %d, lost %d; exact McNemar p = %.4g",
                         c.problems, c.passed_a, c.passed_b, c.gained.count, c.lost.count, c.mcnemar_p))
            if !c.gained.isEmpty { print("gained: " + c.gained.joined(separator: " ")) }
            if !c.lost.isEmpty { print("lost:   " + c.lost.joined(separator: " ")) }
            if c.unpaired > 0 { print("\(c.unpaired) problems are in only one file and were left out") }
        }
    }
}

/// One line: pass@1, failures by kind, where the results are.
func describe(_ s: EvalSummary) -> String {
    let failures = s.failures.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    return String(format: "humaneval (%@) %@: pass@1 %d/%d = %.1f%%%@; %d tokens; %@ (this run %@)",
                  s.protocol.rawValue, s.model, s.passed, s.problems, 100 * s.pass_at_1,
                  failures.isEmpty ? "" : "; failed: " + failures, s.tokens, s.results, duration(s.seconds))
}

/// The side-by-side table of several runs against the first.
func comparisonTable(_ runs: [EvalSummary], _ cs: [EvalComparison]) -> String {
    var lines = ["model | pass@1 | share of first | gained | lost | McNemar p", "--- | --- | --- | --- | --- | ---"]
    lines.append("\(runs[0].model) | \(runs[0].passed)/\(runs[0].problems) | 100% | | |")
    for (r, c) in zip(runs.dropFirst(), cs) {
        let share = runs[0].passed > 0 ? String(format: "%.0f%%", 100 * Double(r.passed) / Double(runs[0].passed)) : "-"
        lines.append("\(r.model) | \(r.passed)/\(r.problems) | \(share) | \(c.gained.count) | \(c.lost.count) | \(String(format: "%.3g", c.mcnemar_p))")
    }
    return lines.joined(separator: "\n")
}

/// `1h02m`, `4m05s`, `12s`.
func duration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    let s = Int(seconds.rounded())
    if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
    if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
    return "\(s)s"
}

/// HumanEval.jsonl.gz where scripts/fetch-models.sh puts it: `$PARE_CACHE/data`, else the `.cache/data` of the
/// checkout this binary belongs to.
func defaultHumanEvalPath() throws -> String {
    var candidates: [String] = []
    if let cache = ProcessInfo.processInfo.environment["PARE_CACHE"], !cache.isEmpty { candidates.append(cache + "/data/HumanEval.jsonl.gz") }
    for data in PareData.candidates { candidates.append((data as NSString).deletingLastPathComponent + "/.cache/data/HumanEval.jsonl.gz") }
    guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
        throw EvalError.badData(path: candidates.first ?? "HumanEval.jsonl.gz",
                                detail: "not found (looked in \(candidates.joined(separator: ", "))); run scripts/fetch-models.sh or give --data")
    }
    return found
}

/// Where compiled plans of checkpoints are cached: `$PARE_CACHE/plans`, else `~/.cache/pare/plans`.
func planCacheDirectory() -> String {
    if let cache = ProcessInfo.processInfo.environment["PARE_CACHE"], !cache.isEmpty { return cache + "/plans" }
    return FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/pare/plans"
}
