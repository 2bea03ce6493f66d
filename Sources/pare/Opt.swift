// `pare opt MODEL --passes "..."`: run a pass pipeline (verified, pruning passes KL-checked) and write the IR.
import ArgumentParser
import Foundation
import PareFrontend
import PareIR
import PareInterpreter
import ParePasses

struct Opt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "opt",
        abstract: "Run a pipeline of passes over a model and write the resulting IR.",
        discussion: """
            PIPELINE is a comma-separated list of passes with options in braces, e.g. \
            'vocab-prune{corpus=data/corpus/code.txt},layer-prune{count=3},ffn-prune{drop=256}'; values holding \
            ',' '{' or '}' are written in double quotes; 'none' runs no pass. `pare passes` lists the passes and \
            their options.

            The module is verified after every pass. For every pruning pass that changes the module, KL(before ‖ after) \
            is measured on the calibration set; with --kl-budget, a pass whose mean KL exceeds the budget is rejected \
            and the module stays exactly as it was (exit status 0: the report says so). Accepted pruning passes \
            record their decisions in the module's metadata (decision.N.*).

            A pruning pass that changes the tokenizer (vocab-prune) is checked on held-out text instead (--held-out, \
            default data/heldout/mixed.txt): each model reads every piece with its own tokenizer, as a prompt reaches \
            it; the report gives the loss per byte of both (nats per byte of text) and the KL where the two \
            tokenizations agree (same byte boundary, same next token). --held-out-budget bounds the loss increase, \
            --kl-budget that KL.

            Output: the IR to -o FILE (atomically) or to standard output; a per-pass report on standard error. With \
            --json the per-pass records go to standard output instead of the IR: {"model", "pipeline", \
            "calibration", "held_out", "kl_budget", "held_out_budget", "parameters_before", "parameters_after", "output", "passes": [{"index", \
            "pass", "options", "changed", "rejected", "rejection", "seconds", "kl_seconds", "statistics", \
            "statistics_order", "parameters_before", "parameters_after", "parameters_rejected", "kl", "kl_budget", \
            "held_out", "held_out_budget", "decision"}]}.
            """)

    @OptionGroup var model: ModelOptions

    @Option(help: ArgumentHelp("The pipeline: pass{option=value,...},pass,... ('none' for no passes).", valueName: "pipeline"))
    var passes: String

    @Option(name: .shortAndLong, help: "Write the IR here (atomically) instead of standard output.")
    var output: String?

    @Option(help: ArgumentHelp("Reject a pruning pass whose mean KL (nats per token) exceeds this.", valueName: "x"))
    var klBudget: Double?

    @OptionGroup var calibration: CalibrationOptions

    @OptionGroup var heldOut: HeldOutOptions

    @Flag(help: "Do not verify the module after each pass.")
    var noVerify = false

    @Flag(help: "Print the IR after every pass (to standard error).")
    var printIrAfterAll = false

    @Flag(help: "Print the IR after every pass that changed it (to standard error).")
    var printIrAfterChange = false

    @Option(help: ArgumentHelp("Write 00-input.pir and NN-<pass>.pir after each pass into this folder.", valueName: "dir"))
    var dumpDir: String?

    @Flag(help: "Print the per-pass records as JSON on standard output (the IR only goes to -o).")
    var json = false

    func validate() throws {
        if let klBudget, !(klBudget.isFinite && klBudget >= 0) {
            throw ValidationError("--kl-budget must be a finite number >= 0, got \(klBudget)")
        }
        if printIrAfterAll && printIrAfterChange {
            throw ValidationError("give at most one of --print-ir-after-all and --print-ir-after-change")
        }
    }

    struct Report: Encodable {
        var model: String
        var pipeline: String
        var calibration: String?
        var heldOut: String?
        var klBudget: Double?
        var heldOutBudget: Double?
        var parametersBefore: Int
        var parametersAfter: Int
        var output: String?
        var passes: [PassRecord]

        enum CodingKeys: String, CodingKey {
            case model, pipeline, calibration, output, passes
            case heldOut = "held_out", heldOutBudget = "held_out_budget"
            case klBudget = "kl_budget", parametersBefore = "parameters_before", parametersAfter = "parameters_after"
        }

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(model, forKey: .model)
            try c.encode(pipeline, forKey: .pipeline)
            try c.encode(calibration, forKey: .calibration)
            try c.encode(heldOut, forKey: .heldOut)
            try c.encode(klBudget, forKey: .klBudget)
            try c.encode(heldOutBudget, forKey: .heldOutBudget)
            try c.encode(parametersBefore, forKey: .parametersBefore)
            try c.encode(parametersAfter, forKey: .parametersAfter)
            try c.encode(output, forKey: .output)
            try c.encode(passes, forKey: .passes)
        }
    }

    func run() throws {
        try reportingErrors {
            // The pipeline first: a typo should not cost a model load.
            let scheduled = try Pipeline(parsing: passes).resolve()
            let loaded = try loadModel(model.model)
            let needsCalibration = scheduled.contains { $0.pass.isPruning } || klBudget != nil || calibration.calibration != nil
            let cal = needsCalibration ? try calibration.load(for: loaded) : nil
            let needsHeldOut = scheduled.contains { $0.pass.isPruning } || heldOut.heldOut != nil || heldOut.heldOutBudget != nil
            let held = needsHeldOut ? try heldOut.load() : nil
            let context = PassContext(store: loaded.store, calibration: cal, heldOut: held, progress: { note($0) })
            let manager = PassManager(
                passes: scheduled, verify: !noVerify,
                printIR: printIrAfterAll ? .afterAll : (printIrAfterChange ? .afterChange : .never),
                irSink: { note($0) }, dumpDirectory: dumpDir, klBudget: klBudget,
                heldOutBudget: heldOut.heldOutBudget, log: { note($0) })
            let before = loaded.module.parameterCount
            let result = try manager.run(loaded.module, context: context)

            let text = printModule(result.module)
            if let output { try writeAtomically(text, to: output) } else if !json { print(text, terminator: "") }
            if json {
                try printJSON(Report(model: model.model, pipeline: passes, calibration: cal?.origin, heldOut: held?.origin,
                                     klBudget: klBudget, heldOutBudget: heldOut.heldOutBudget,
                                     parametersBefore: before, parametersAfter: result.module.parameterCount,
                                     output: output, passes: result.records))
            }
            note(report(result.records, before: before, after: result.module.parameterCount, calibration: cal, heldOutOrigin: held?.origin))
        }
    }

    /// The per-pass report for standard error.
    func report(_ records: [PassRecord], before: Int, after: Int, calibration: Calibration?, heldOutOrigin: String?) -> String {
        var lines = ["pare opt: \(records.count) pass\(records.count == 1 ? "" : "es")"
            + (calibration.map { "; calibration \($0.origin)" } ?? "") + (klBudget.map { String(format: "; KL budget %.6g", $0) } ?? "")]
        if let h = heldOutOrigin, records.contains(where: { $0.heldOut != nil }) {
            lines.append("  held-out text (passes that change the tokenizer) \(h)"
                         + (heldOut.heldOutBudget.map { String(format: "; loss-per-byte budget %+.3g%%", $0 * 100) } ?? ""))
        }
        for r in records {
            let state = r.rejected ? "REJECTED" : (r.changed ? "changed" : "unchanged")
            var head = "  [\(r.index)/\(records.count)] \(r.spelling): \(state), " + String(format: "%.2f s", r.seconds)
            if r.klSeconds > 0 { head += String(format: " (+ KL check %.2f s)", r.klSeconds) }
            lines.append(head)
            lines.append("      parameters \(count(r.parametersBefore)) -> \(count(r.parametersAfter))" + change(r.parametersBefore, r.parametersAfter)
                + (r.parametersRejected.map { " (the rejected result had \(count($0)))" } ?? ""))
            if !r.statisticsOrder.isEmpty { lines.append("      " + r.statisticsSummary) }
            if let h = r.heldOut { lines.append("      " + h.summary) } else if let kl = r.kl { lines.append("      " + kl.summary) }
            if let why = r.rejection { lines.append("      rejected: \(why); the module is left as it was") }
            if let d = r.decision { lines.append("      decisions recorded under \(d).*") }
        }
        lines.append("  total parameters \(count(before)) -> \(count(after))" + change(before, after))
        return lines.joined(separator: "\n")
    }

    func count(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (i, c) in s.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }

    func change(_ a: Int, _ b: Int) -> String {
        guard a != b, a > 0 else { return "" }
        return String(format: " (%+.2f%%)", Double(b - a) / Double(a) * 100)
    }
}
