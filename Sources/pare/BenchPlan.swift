// `pare bench model.pare`: the runtime's load time, prefill and decode speed, and decode's weight-bandwidth bound.
import ArgumentParser
import Foundation
import ParePlan
import PareRuntime

extension Bench {
    struct PlanReport: Encodable {
        var plan: String
        var prompt_tokens: Int
        var decode_tokens: Int
        var runs: Int
        var load_seconds: Double
        var prefill_seconds_median: Double
        var prefill_tokens_per_second: Double
        var prefill_gflops_effective: Double
        var decode_seconds_median: Double
        var decode_tokens_per_second: Double
        var decode_weight_bytes_per_token: Int
        var bandwidth_gbs: Double
        var decode_bound_tokens_per_second: Double
        var decode_fraction_of_bound: Double
        var weight_bytes: Int
        var peak_rss_mib: Double
    }

    func benchPlan() throws {
        try reportingErrors {
            let open = try OpenPlan(model.model)
            let p = open.loaded.plan
            var ids: [Int] = []
            let unit = open.tokenizer.encode(Self.snippet)
            while ids.count < tokens { ids += unit }
            ids = Array(ids.prefix(tokens))
            let session = try open.runtime.makeSession(maxContext: min(tokens + decodeTokens + 1, p.model.maxContext))
            var prefill: [Double] = [], decode: [Double] = []
            _ = try session.forward(ids)  // warm-up: page in the weights
            for _ in 0..<runs {
                session.reset()
                let s = Date()
                _ = try session.forward(ids)
                prefill.append(Date().timeIntervalSince(s))
                var next = 0
                let d = Date()
                for _ in 0..<decodeTokens { _ = try session.forward([next]); next = (next + 1) % max(p.model.vocabSize, 1) }
                decode.append(Date().timeIntervalSince(d))
            }
            let pm = prefill.sorted()[runs / 2], dm = decode.sorted()[runs / 2]
            let perToken = decodeBytesPerToken(p)
            let bound = bandwidth * 1e9 / Double(perToken)
            let report = PlanReport(
                plan: model.model, prompt_tokens: tokens, decode_tokens: decodeTokens, runs: runs, load_seconds: open.loadSeconds,
                prefill_seconds_median: pm, prefill_tokens_per_second: Double(tokens) / pm,
                prefill_gflops_effective: Double(planFlops(p, tokens: tokens)) / pm / 1e9,
                decode_seconds_median: dm, decode_tokens_per_second: Double(decodeTokens) / dm,
                decode_weight_bytes_per_token: perToken, bandwidth_gbs: bandwidth, decode_bound_tokens_per_second: bound,
                decode_fraction_of_bound: Double(decodeTokens) / dm / bound, weight_bytes: p.weights.length, peak_rss_mib: peakRSSMiB())
            if json { try printJSON(report); return }
            print(String(format: """
                %@
                  load        %.2f s (read, validate, checksum %@ of weights)
                  prefill     %d tokens in %.3f s: %.1f tok/s, %.1f GFLOP/s effective (median of %d)
                  decode      %d tokens in %.3f s: %.1f tok/s (median of %d)
                  bound       %@ of weights per token at %.0f GB/s: %.1f tok/s; decode reaches %.0f%% of it
                  peak RSS    %.0f MiB
                """, model.model, report.load_seconds, bytes(p.weights.length), tokens, pm, report.prefill_tokens_per_second,
                report.prefill_gflops_effective, runs, decodeTokens, dm, report.decode_tokens_per_second, runs,
                bytes(perToken), bandwidth, bound, 100 * report.decode_fraction_of_bound, report.peak_rss_mib))
        }
    }
}

/// Weight bytes one decoded token reads: every weight of every step whole, except one row of a table (the kernel
/// table's `WeightOperands.table`: the embedding).
func decodeBytesPerToken(_ p: ExecutionPlan) -> Int {
    var total = 0
    for s in p.steps {
        for w in s.weights {
            let t = p.tensors[w]
            total += s.kernel.spec.weights == .table ? t.length / max(t.shape.first ?? 1, 1) : t.length
        }
    }
    return total
}

/// Floating-point operations (the kernel table's cost: matrix products 2·m·n·k, causal attention) that a prefill
/// of `n` prompt tokens computes. Steps after the last attention (the final residual, the head) run on the last
/// row only, as the runtime does when it returns only the last row's logits.
func planFlops(_ p: ExecutionPlan, tokens: Int) -> Int {
    let lastAttention = p.steps.lastIndex { $0.kernel.spec.attends } ?? p.steps.count
    return p.steps.enumerated().reduce(0) { flops, step in
        let (i, s) = step
        return flops + s.kernel.spec.flops(s, shapes: s.weights.map { p.tensors[$0].shape }, rows: i > lastAttention ? 1 : tokens, past: 0)
    }
}
