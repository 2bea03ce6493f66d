// `pare compile MODEL [--passes ...] -o model.pare`: prune (KL-checked), lower, and write an execution plan.
import ArgumentParser
import Foundation
import PareFrontend
import PareIR
import PareInterpreter
import PareLowering
import ParePasses
import ParePlan

struct Compile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prune a model, lower it, and write an execution plan (plan.pb + weights.bin) that `pare run` executes.",
        discussion: """
            Three phases, each reported on standard error:
              1. pruning: the --passes pipeline, every pass verified and KL-checked as in `pare opt` (on calibration \
            code; a pass that changes the tokenizer, on held-out text each model reads with its own tokenizer). The default depends on MODEL: for a checkpoint (GGUF file or Hugging Face directory) the \
            default recipe, \(defaultRecipe) (chosen by HumanEval measurement, docs/RESULTS.md; the paper's recipe, \
            \(paperRecipe), keeps about a fifth of dense pass@1); for a .pir written by `pare opt` (already pruned) 'none', so it is \
            lowered as it is and pruned again only when --passes asks. 'none' compiles a checkpoint's dense model;
              2. lowering: \(loweringPipeline) (fusion, norm folding and the memory plan; exact rewrites, \
            verified after each pass);
              3. writing: one step per op, one arena buffer per value, every weight tensor 64-byte aligned in \
            weights.bin with a CRC-32C checksum, as --weights says: f32 materialises every tensor as float32 (the \
            runtime then computes as the interpreter does); source copies each matrix's GGUF blocks bit for bit where \
            whole rows survive the pruning (row selection, stacking q/k/v and gate/up; the default), keeps a folded norm's weight \
            apart (applied to the activation, so no block changes), and re-encodes a matrix whose columns were cut as \
            q8_0 (a `quantize{all=q8_0,scope=cut}` pass appended to the pipeline, KL-checked); f16, q8 and q4 append a \
            `quantize` pass that re-encodes every matrix stored wider than the target (q4: \(WeightFormat.q4Pass)); \
            a matrix no format can hold stays float32 and the report lists it with the reason; the runtime then multiplies 8-bit quantised \
            activations with the blocks (C kernels, AVX2 when the CPU has it, on all cores); plan.pb records provenance (source sha256, \
            pipeline, seeds, KL of each pruning pass), the pruned tokenizer and id map, and the KV-cache layout.

            The output is a directory, written atomically (a temporary sibling renamed into place). The same inputs \
            and options give the same bytes.

            Examples:
              pare compile qwen.gguf -o qwen-pruned.pare
              pare compile qwen.gguf --passes none -o qwen-dense.pare
              pare compile qwen.gguf --weights f32 -o qwen-f32.pare    # every weight float32 (the reference)
              pare compile qwen.gguf --weights q4 -o qwen-q4.pare      # 4-bit blocks (KL-checked)
              pare compile qwen.gguf --passes 'vocab-prune,quantize{blocks=q4_1,head=q8_0}' -o q.pare
              pare compile small.pir -o small.pare --json
            """)

    @OptionGroup var model: ModelOptions

    @Option(help: ArgumentHelp("The pruning pipeline ('none' for no pruning). Default: the default recipe (see above) for a checkpoint, "
                               + "'none' for a .pir.", valueName: "pipeline"))
    var passes: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("The plan directory to write (conventionally NAME.pare).", valueName: "dir"))
    var output: String

    @Option(help: ArgumentHelp("Rows per forward chunk: the arena holds this many rows; longer prompts run in chunks (1-4096).",
                               valueName: "n"))
    var maxRows = 128

    @Option(help: ArgumentHelp("How weight matrices are stored: source (the default: the GGUF's own blocks where whole rows "
                               + "survive; a matrix whose columns were cut re-encoded as q8_0; a safetensors checkpoint is float32 "
                               + "throughout); f16, q8 or q4 (as source, then every matrix wider than the target re-encoded: "
                               + "q4 is \(WeightFormat.q4Pass)); f32 (every tensor float32: 4-5x larger, decode as the "
                               + "interpreter computes it). Every re-encoding is a `quantize` pass at the end of the pruning "
                               + "pipeline, KL-checked like a pruning pass.", valueName: "source|f32|f16|q8|q4"))
    var weights: WeightFormat = Compile.defaultWeights

    /// `--weights` when not given (`pare eval` compiles with it too).
    /// `source`: on Qwen2.5-Coder-0.5B the default recipe's source-blocks plan scores 71/164 on HumanEval, the dense f32
    /// plan's score (2 problems gained, 2 lost, McNemar p = 1), at 0.76x the GGUF's size (docs/RESULTS.md).
    static let defaultWeights = WeightFormat.source

    @Option(help: ArgumentHelp("Reject a pruning pass (quantize included) whose mean KL (nats per token) exceeds this; 'none': no "
                               + "budget. Default: \(Compile.defaultKLBudget), set from the HumanEval ablation (docs/RESULTS.md); "
                               + "--weights q4 on Qwen2.5-Coder measures about 0.058 and needs --kl-budget none.", valueName: "x|none"))
    var klBudget: KLBudget?

    /// The KL budget of every KL-checked pass when --kl-budget is not given. On Qwen2.5-Coder-0.5B (docs/RESULTS.md,
    /// the ablation) every pass whose calibration KL stayed at or below 0.0124 kept >= 97% of dense pass@1
    /// (ffn-prune{drop=128}), and every pass at 0.0256 or above kept less: ffn-prune{drop=256} lost 16 problems,
    /// layer-prune{count=1} (0.091) 22, and the 4-bit re-encoding of the vocabulary-pruned recipe (`quantize`, 0.058) 6.
    static let defaultKLBudget = 0.02

    @OptionGroup var calibration: CalibrationOptions

    @OptionGroup var heldOut: HeldOutOptions

    @Option(help: ArgumentHelp("Also write the lowered module's IR here (atomically).", valueName: "file.pir"))
    var dumpIr: String?

    @Flag(help: "Print a JSON report on standard output.")
    var json = false

    func validate() throws {
        guard (1...4096).contains(maxRows) else { throw ValidationError("--max-rows must be between 1 and 4096, got \(maxRows)") }
        guard !output.isEmpty else { throw ValidationError("-o needs a directory name, e.g. -o model.pare") }
    }

    struct Report: Encodable {
        var model: String
        var output: String
        var pipeline: String
        var lowering: String
        var parameters_before: Int
        var parameters_after: Int
        var vocabulary: Int
        var blocks: [Int]
        var steps: Int
        var tensors: Int
        var weight_bytes: Int
        var weights: String
        var tensors_by_dtype: [String: Int]
        var f32_fallbacks: [Fallback]
        var arena_bytes: Int
        var arena_bytes_without_reuse: Int
        var kv_bytes_per_position: Int
        var weights_sha256: String
        var seconds_pruning: Double
        var seconds_lowering: Double
        var seconds_writing: Double
        var passes: [PassRecord]
    }

    struct Fallback: Encodable {
        var parameter: String
        var reason: String
    }

    func run() throws {
        try reportingErrors {
            let asked = try self.passes ?? defaultPasses(for: model.model)
            // --weights other than f32 ends the pruning pipeline with its quantize pass (KL-checked like the others).
            let passes = weights.quantizePass.map { asked == "none" ? $0 : asked + "," + $0 } ?? asked
            let pruning = try Pipeline(parsing: passes).resolve()
            let lowering = try Pipeline(parsing: loweringPipeline).resolve()
            let t0 = Date()
            let loaded = try loadModel(model.model)
            let needsCalibration = pruning.contains { $0.pass.isPruning } || klBudget?.value != nil || calibration.calibration != nil
            let cal = needsCalibration ? try calibration.load(for: loaded) : nil
            let needsHeldOut = pruning.contains { $0.pass.isPruning } || heldOut.heldOut != nil || heldOut.heldOutBudget != nil
            let held = needsHeldOut ? try heldOut.load() : nil
            let context = PassContext(store: loaded.store, calibration: cal, heldOut: held, progress: { note($0) })
            note("pare compile: \(model.model)")
            note("[1/3] pruning: \(asked)" + (weights.quantizePass.map { ", then \($0) (--weights \(weights.rawValue))" } ?? ""))
            let manager = PassManager(passes: pruning, klBudget: klBudget.map(\.value) ?? Compile.defaultKLBudget,
                                      heldOutBudget: heldOut.heldOutBudget, log: { note("  " + $0) })
            let pruned = try manager.run(loaded.module, context: context)
            let t1 = Date()
            note("[2/3] lowering: \(loweringPipeline)")
            let lowered = try PassManager(passes: lowering, log: { note("  " + $0) }).run(pruned.module, context: context)
            if let dumpIr { try writeAtomically(printModule(lowered.module), to: dumpIr) }
            let t2 = Date()
            note("[3/3] writing \(output)")
            // The pipeline as applied, from the module's decision records: a pass the KL budget rejected (or that changed
            // nothing) did not shape the plan, and a .pir pruned by `pare opt` names the passes that pruned it.
            let options = LoweringOptions(maxRows: maxRows, pipeline: appliedPipeline(pruned.module),
                                          lowering: loweringPipeline, pareVersion: pareVersion, weights: weights)
            let blocks = GGUFBlocks(reader: loaded.reader)
            let plan = try lowerToPlan(lowered.module, store: loaded.store, options: options, raw: weights.usesSourceBlocks ? blocks : nil)
            for f in plan.f32Fallbacks { note("  float32: @\(f.parameter): \(f.reason)") }
            loaded.store.dropViews()
            var done = 0
            let written = try PlanDirectory.write(plan.plan, to: output) { i in
                done += 1
                if done % 20 == 0 || done == plan.plan.tensors.count { note("  tensor \(done)/\(plan.plan.tensors.count)") }
                defer { loaded.store.dropViews() }  // one materialised tensor at a time, not the whole model twice
                return try plan.data(i)
            }
            withExtendedLifetime(blocks) {}
            let t3 = Date()
            let p = written
            let report = Report(
                model: model.model, output: output, pipeline: options.pipeline, lowering: loweringPipeline,
                parameters_before: loaded.module.parameterCount, parameters_after: pruned.module.parameterCount,
                vocabulary: p.model.vocabSize, blocks: p.kvLayers.map(\.block), steps: p.steps.count, tensors: p.tensors.count,
                weight_bytes: p.weights.length, weights: weights.rawValue,
                tensors_by_dtype: Dictionary(p.tensors.map { ($0.dtype.rawValue, 1) }, uniquingKeysWith: +),
                f32_fallbacks: plan.f32Fallbacks.map { Fallback(parameter: $0.parameter, reason: $0.reason) },
                arena_bytes: p.arena.bytes(rows: p.model.maxRows),
                arena_bytes_without_reuse: p.arena.noReuseRowFloats * p.model.maxRows * 4,
                kv_bytes_per_position: p.kvLayers.reduce(0) { $0 + 2 * $1.width * 4 }, weights_sha256: p.weights.sha256,
                seconds_pruning: t1.timeIntervalSince(t0), seconds_lowering: t2.timeIntervalSince(t1),
                seconds_writing: t3.timeIntervalSince(t2), passes: pruned.records + lowered.records)
            note(String(format: "pare compile: wrote %@ in %.1f s: %d steps, %d tensors, %@ of weights, arena %@ for %d rows (%@ without reuse)",
                        output, t3.timeIntervalSince(t0), p.steps.count, p.tensors.count, bytes(p.weights.length),
                        bytes(report.arena_bytes), p.model.maxRows, bytes(report.arena_bytes_without_reuse)))
            if json { try printJSON(report) }
        }
    }
}

/// The pruning pipeline `pare compile` runs without --passes: the default recipe on a checkpoint, nothing on a
/// `.pir` (written by `pare opt`, so already pruned as its author chose).
func defaultPasses(for model: String) throws -> String {
    try detectFormat(model) == .pir ? "none" : defaultRecipe
}

/// `1.27 GB`, `45.0 MB`, `12.0 KB`.
func bytes(_ n: Int) -> String {
    let d = Double(n)
    if d >= 1e9 { return String(format: "%.2f GB", d / 1e9) }
    if d >= 1e6 { return String(format: "%.1f MB", d / 1e6) }
    if d >= 1e3 { return String(format: "%.1f KB", d / 1e3) }
    return "\(n) B"
}

/// This build's version, recorded in plans.
let pareVersion = "0.6.0"

extension WeightFormat: ExpressibleByArgument {}

/// `--kl-budget`: a finite number >= 0, or `none` (no budget).
struct KLBudget: ExpressibleByArgument, Equatable {
    var value: Double?
    init?(argument: String) {
        if argument == "none" { value = nil; return }
        guard let v = Double(argument), v.isFinite, v >= 0 else { return nil }
        value = v
    }
    static var defaultCompletionKind: CompletionKind { .default }
}

