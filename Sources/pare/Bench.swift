// `pare bench MODEL`: load time and reference-interpreter time for an N-token prompt; for a plan, the runtime's
// prefill and decode speed against the weight-bandwidth bound. Not a test.
import ArgumentParser
import Foundation
import PareFrontend
import PareIR
import PareInterpreter

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure load time and prompt speed (interpreter), or prefill and decode speed (runtime, for a plan).",
        discussion: """
            For a plan directory (`pare compile`): load (read, validate, checksum, map), prefill of an N-token \
            prompt (matrix-matrix products), decode of --decode-tokens tokens after it (matrix-vector products, \
            KV cache), each the median of --runs runs; the effective GFLOP/s of prefill; the weight bytes each \
            decoded token reads and the bound they put on decode at --bandwidth GB/s; peak RSS.

            For a model: \
            Load is split into lifting (metadata, tokenizer, source sha256) and materialising the weights \
            (dequantisation to float32). The prompt is real code: \
            a fixed Python snippet, repeated to length. Reports the median of --runs runs, the effective \
            GFLOP/s of the matrix products, and peak RSS. Results for this machine are in docs/BENCHMARKS.md.
            """)

    @OptionGroup var model: ModelOptions

    @Option(help: "Prompt length in tokens (1-4096).")
    var tokens = 128

    @Option(help: "Timed runs of the prompt (1-100); the median is reported.")
    var runs = 3

    @Option(help: "Decoded tokens per run, for a plan (1-4096).")
    var decodeTokens = 64

    @Option(help: ArgumentHelp("Memory bandwidth in GB/s for the decode bound (measure it with scripts/bench-compare.sh).",
                               valueName: "GB/s"))
    var bandwidth = 40.0

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard (1...4096).contains(tokens) else { throw ValidationError("--tokens must be between 1 and 4096, got \(tokens)") }
        guard (1...100).contains(runs) else { throw ValidationError("--runs must be between 1 and 100, got \(runs)") }
        guard (1...4096).contains(decodeTokens) else { throw ValidationError("--decode-tokens must be between 1 and 4096, got \(decodeTokens)") }
        guard bandwidth > 0 && bandwidth.isFinite else { throw ValidationError("--bandwidth must be a positive number of GB/s") }
    }

    struct Report: Encodable {
        var model: String
        var tokens: Int
        var lift_seconds: Double
        var weights_seconds: Double
        var load_seconds: Double
        var prompt_seconds_median: Double
        var prompt_seconds_all: [Double]
        var gflops_effective: Double
        var peak_rss_mib: Double
    }

    static let snippet = """
        def merge_sort(items: list[int]) -> list[int]:
            \"\"\"Sort a list of integers with merge sort and return a new list.\"\"\"
            if len(items) <= 1:
                return list(items)
            middle = len(items) // 2
            left, right = merge_sort(items[:middle]), merge_sort(items[middle:])
            merged = []
            while left and right:
                merged.append(left.pop(0) if left[0] <= right[0] else right.pop(0))
            return merged + left + right

        """

    func run() throws {
        if isPlan(model.model) { return try benchPlan() }
        try reportingErrors {
            let t0 = Date()
            let loaded = try loadModel(model.model)
            let t1 = Date()
            let weights = try loaded.weights()
            let interp = try Interpreter(module: loaded.module, weights: weights)
            let t2 = Date()
            var ids: [Int] = []
            let unit = loaded.tokenizer.encode(Self.snippet)
            while ids.count < tokens { ids += unit }
            ids = Array(ids.prefix(tokens))
            var times: [Double] = []
            for _ in 0..<runs {
                let s = Date()
                _ = try interp.forward(ids)
                times.append(Date().timeIntervalSince(s))
            }
            let median = times.sorted()[times.count / 2]
            let report = Report(model: model.model, tokens: tokens, lift_seconds: t1.timeIntervalSince(t0),
                                weights_seconds: t2.timeIntervalSince(t1), load_seconds: t2.timeIntervalSince(t0),
                                prompt_seconds_median: median, prompt_seconds_all: times,
                                gflops_effective: Double(matmulFlops(loaded.module, tokens: tokens)) / median / 1e9,
                                peak_rss_mib: peakRSSMiB())
            if json { try printJSON(report); return }
            print(String(format: "%@\n  load        %.2f s (lift %.2f s, weights %.2f s)\n  %d-token prompt  %.3f s median of %d (%.1f GFLOP/s effective)\n  peak RSS    %.0f MiB",
                         model.model, report.load_seconds, report.lift_seconds, report.weights_seconds, tokens, median, runs,
                         report.gflops_effective, report.peak_rss_mib))
        }
    }
}

/// Floating-point operations of the matrix products in one forward pass over `tokens` tokens
/// (linear layers 2·m·n·k; attention 2·2·m·L·d per head, causal half counted).
func matmulFlops(_ m: Module, tokens n: Int) -> Int {
    var flops = 0
    for op in m.function.ops {
        switch op.kind {
        case .linear:
            if let w = op.paramOperands.first.flatMap(m.parameter) { flops += 2 * n * w.shape[0] * w.shape[1] }
        case .attention:
            flops += 2 * (op.int("heads") ?? 0) * (op.int("head_dim") ?? 0) * n * (n + 1)
        default: break
        }
    }
    return flops
}

/// Peak resident set size of this process, in MiB.
func peakRSSMiB() -> Double {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_maxrss) / 1024  // Linux reports KiB
}
