// `pare report PLAN [PLAN2 ...]`: what a plan costs. Parameters by component and per block, FLOPs and bytes read
// per generated token, artifact size, and (measured by `pare bench` in a child process, so each plan's peak RSS is
// its own) prefill and decode speed. Several plans side by side, with ratios against the first.
import ArgumentParser
import Foundation
import ParePlan

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Efficiency report of compiled plans: parameters, FLOPs and bytes per token, size, speed, memory.",
        discussion: """
            Static figures come from the plan itself:
              parameters   by component: embedding (the table the first step reads), LM head (the product that makes \
            the logits), attention (q/k/v/o products and their biases), FFN (gate/up/down), norms (gains not folded \
            into a product); "blocks" is attention + FFN + norms inside the blocks: the non-embedding parameters.
              FLOPs/token  multiply-adds x 2 of every product for one generated token, plus attention over a \
            context of 0 and 512 earlier positions (2 x 2 x heads x head_dim x positions per attention step).
              bytes/token  weight bytes a decoded token reads (every product's weights, one embedding row) plus the \
            KV cache read at context 512 (f32 keys and values).
              artifact     plan.pb + weights.bin on disk.
            Measured figures (skipped with --no-bench) run `pare bench PLAN --json` for each plan in its own process: \
            prefill tokens/s (--tokens prompt), decode tokens/s (--decode-tokens), peak RSS.

            Examples:
              pare report dense.pare pruned.pare
              pare report pruned.pare --no-bench --json
            """)

    @Argument(help: ArgumentHelp("Plan directories written by `pare compile`; the first is the baseline of the ratios.", valueName: "plan"))
    var plans: [String]

    @Flag(help: "Only the static figures: do not run the plans.")
    var noBench = false

    @Option(help: "Prompt length of the prefill measurement (1-4096).")
    var tokens = 128

    @Option(help: "Decoded tokens of the decode measurement (1-4096).")
    var decodeTokens = 64

    @Flag(help: "Print JSON: {\"plans\": [...]}, each with its figures and its ratios to the first.")
    var json = false

    func validate() throws {
        guard !plans.isEmpty else { throw ValidationError("give at least one plan directory") }
        guard (1...4096).contains(tokens) else { throw ValidationError("--tokens must be between 1 and 4096, got \(tokens)") }
        guard (1...4096).contains(decodeTokens) else { throw ValidationError("--decode-tokens must be between 1 and 4096, got \(decodeTokens)") }
    }

    /// The figures of one plan.
    struct Figures: Encodable {
        var plan: String
        var pipeline: String
        var vocabulary: Int
        var blocks: Int
        var parameters: [String: Int]
        var parameters_total: Int
        var parameters_blocks: Int
        var flops_per_token_ctx0: Int
        var flops_per_token_ctx512: Int
        var artifact_bytes: Int
        var weight_bytes: Int
        var bytes_per_token_ctx512: Int
        var prefill_tokens_per_second: Double?
        var decode_tokens_per_second: Double?
        var peak_rss_mib: Double?
        /// This plan's figures over the first plan's (1 for the first).
        var ratios: [String: Double] = [:]
    }

    static let components = ["embedding", "lm_head", "attention", "ffn", "norms"]

    func run() throws {
        try reportingErrors {
            var all: [Figures] = []
            for (i, path) in plans.enumerated() {
                note("pare report: [\(i + 1)/\(plans.count)] \(path)")
                var f = try staticFigures(path)
                if !noBench { try measure(path, into: &f) }
                all.append(f)
            }
            let base = all[0]
            for i in all.indices { all[i].ratios = ratios(all[i], base) }
            if json {
                struct Output: Encodable { var plans: [Figures] }
                try printJSON(Output(plans: all))
            } else {
                print(table(all))
            }
        }
    }

    func staticFigures(_ path: String) throws -> Figures {
        let loaded = try PlanDirectory.read(path, verifyChecksums: false)
        let p = loaded.plan
        var params = Dictionary(uniqueKeysWithValues: Self.components.map { ($0, 0) })
        var counted = Set<Int>()
        for (role, tensor) in tensorRoles(p) where counted.insert(tensor).inserted {
            params[role, default: 0] += p.tensors[tensor].shape.reduce(1, *)
        }
        let blocksParams = params["attention"]! + params["ffn"]! + params["norms"]!
        let flopsProducts = planFlops(p, tokens: 1) - attentionFlops(p, context: 0)
        let kvRead = p.kvLayers.reduce(0) { $0 + 2 * $1.width * 4 } * 513
        let artifact = fileSize(path + "/" + PlanDirectory.planFile) + fileSize(path + "/" + p.weights.file)
        return Figures(plan: path, pipeline: p.provenance.pipeline, vocabulary: p.model.vocabSize, blocks: p.kvLayers.count,
                       parameters: params, parameters_total: params.values.reduce(0, +), parameters_blocks: blocksParams,
                       flops_per_token_ctx0: flopsProducts + attentionFlops(p, context: 0),
                       flops_per_token_ctx512: flopsProducts + attentionFlops(p, context: 512),
                       artifact_bytes: artifact, weight_bytes: p.weights.length, bytes_per_token_ctx512: decodeBytesPerToken(p) + kvRead)
    }

    /// Runs `pare bench PATH --json` in a child process and takes its speeds and peak RSS.
    func measure(_ path: String, into f: inout Figures) throws {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["bench", path, "--json", "--tokens", "\(tokens)", "--decode-tokens", "\(decodeTokens)"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.standardError
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0, p.terminationReason == .exit, let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            let how = p.terminationReason == .uncaughtSignal ? "was killed by signal \(p.terminationStatus)"
                : p.terminationStatus == 0 ? "printed no JSON report" : "exited with status \(p.terminationStatus)"
            throw ReportError.benchFailed(plan: path, detail: how)
        }
        f.prefill_tokens_per_second = o["prefill_tokens_per_second"] as? Double
        f.decode_tokens_per_second = o["decode_tokens_per_second"] as? Double
        f.peak_rss_mib = o["peak_rss_mib"] as? Double
    }

    func ratios(_ f: Figures, _ base: Figures) -> [String: Double] {
        func r(_ a: Double?, _ b: Double?) -> Double? { guard let a, let b, b != 0 else { return nil }; return a / b }
        let pairs: [(String, Double?)] = [
            ("parameters_total", r(Double(f.parameters_total), Double(base.parameters_total))),
            ("parameters_blocks", r(Double(f.parameters_blocks), Double(base.parameters_blocks))),
            ("flops_per_token_ctx0", r(Double(f.flops_per_token_ctx0), Double(base.flops_per_token_ctx0))),
            ("flops_per_token_ctx512", r(Double(f.flops_per_token_ctx512), Double(base.flops_per_token_ctx512))),
            ("artifact_bytes", r(Double(f.artifact_bytes), Double(base.artifact_bytes))),
            ("bytes_per_token_ctx512", r(Double(f.bytes_per_token_ctx512), Double(base.bytes_per_token_ctx512))),
            ("prefill_tokens_per_second", r(f.prefill_tokens_per_second, base.prefill_tokens_per_second)),
            ("decode_tokens_per_second", r(f.decode_tokens_per_second, base.decode_tokens_per_second)),
            ("peak_rss_mib", r(f.peak_rss_mib, base.peak_rss_mib)),
        ]
        return Dictionary(uniqueKeysWithValues: pairs.compactMap { k, v in v.map { (k, $0) } })
    }

    /// Rows of figures, one column per plan, each later plan's value followed by its ratio to the first.
    func table(_ all: [Figures]) -> String {
        func m(_ n: Int) -> String { String(format: "%.1f M", Double(n) / 1e6) }
        func g(_ n: Int) -> String { String(format: "%.2f G", Double(n) / 1e9) }
        func opt(_ v: Double?, _ fmt: String) -> String { v.map { String(format: fmt, $0) } ?? "-" }
        let rows: [(String, (Figures) -> String, String?)] = [
            ("pipeline", { $0.pipeline }, nil),
            ("vocabulary", { "\($0.vocabulary)" }, nil),
            ("blocks", { "\($0.blocks)" }, nil),
            ("params: embedding", { m($0.parameters["embedding"] ?? 0) }, nil),
            ("params: LM head", { m($0.parameters["lm_head"] ?? 0) }, nil),
            ("params: attention", { m($0.parameters["attention"] ?? 0) }, nil),
            ("params: FFN", { m($0.parameters["ffn"] ?? 0) }, nil),
            ("params: norms", { m($0.parameters["norms"] ?? 0) }, nil),
            ("params: total", { m($0.parameters_total) }, "parameters_total"),
            ("params: blocks (non-embedding)", { m($0.parameters_blocks) }, "parameters_blocks"),
            ("FLOPs/token, context 0", { g($0.flops_per_token_ctx0) }, "flops_per_token_ctx0"),
            ("FLOPs/token, context 512", { g($0.flops_per_token_ctx512) }, "flops_per_token_ctx512"),
            ("artifact", { bytes($0.artifact_bytes) }, "artifact_bytes"),
            ("bytes read/token, context 512", { bytes($0.bytes_per_token_ctx512) }, "bytes_per_token_ctx512"),
            ("prefill tok/s", { opt($0.prefill_tokens_per_second, "%.1f") }, "prefill_tokens_per_second"),
            ("decode tok/s", { opt($0.decode_tokens_per_second, "%.1f") }, "decode_tokens_per_second"),
            ("peak RSS", { opt($0.peak_rss_mib, "%.0f MiB") }, "peak_rss_mib"),
        ]
        var lines = ["| | " + all.map(\.plan).joined(separator: " | ") + " |", "|---" + String(repeating: "|---", count: all.count) + "|"]
        for (name, value, ratioKey) in rows {
            let cells = all.enumerated().map { i, f -> String in
                guard i > 0, let k = ratioKey, let r = f.ratios[k] else { return value(f) }
                return value(f) + String(format: " (%.2fx)", r)
            }
            lines.append("| \(name) | " + cells.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n")
    }
}

/// A measurement that failed.
enum ReportError: Error, LocalizedError {
    case benchFailed(plan: String, detail: String)
    var errorDescription: String? {
        switch self {
        case let .benchFailed(plan, detail): return "measuring \(plan): `pare bench` \(detail) (its messages are above); --no-bench gives the static figures"
        }
    }
}

/// Each weight tensor a step reads, with its component (see `Report`'s discussion): the kernel table's role, and for
/// a bare `linear` its neighbours.
func tensorRoles(_ p: ExecutionPlan) -> [(role: String, tensor: Int)] {
    let producer = Dictionary(p.steps.map { ($0.output, $0.kernel) }, uniquingKeysWith: { a, _ in a })
    // Kernels without a matrix of their own: rope and attention (a fused qkv_rope is not a neighbour to count).
    let isAttention: (Kernel) -> Bool = { $0.spec.role == .attention && !$0.spec.isMatrix }
    var roles: [(String, Int)] = []
    for s in p.steps {
        let role: String, declared = s.kernel.spec.role
        switch declared {
        case .embedding, .norms, .attention, .ffn: role = declared.rawValue
        case .byNeighbours:
            if s.output == p.output || s.block == nil { role = "lm_head" }
            else {
                // Attention: the o projection (fed by attention) and unfused q/k/v (read by rope or attention).
                let from = s.inputs.first.flatMap { producer[$0] }
                let readers = p.steps.filter { $0.inputs.contains(s.output) }.map(\.kernel)
                role = (from.map(isAttention) ?? false) || readers.contains(where: isAttention) ? "attention" : "ffn"
            }
        }
        roles += s.weights.map { (role, $0) }
    }
    return roles
}

/// FLOPs of every attention step for one new token over `context` earlier positions (the kernel table's cost).
func attentionFlops(_ p: ExecutionPlan, context: Int) -> Int {
    p.steps.filter { $0.kernel.spec.attends }.reduce(0) { total, s in
        total + s.kernel.spec.flops(s, shapes: s.weights.map { p.tensors[$0].shape }, rows: 1, past: context)
    }
}

/// A file's size in bytes, 0 if it cannot be read.
func fileSize(_ path: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0 }
