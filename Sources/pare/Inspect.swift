// `pare inspect model.pare`: the plan, readably: provenance, sizes, tensors, the memory plan, KV layout, steps.
import ArgumentParser
import Foundation
import ParePlan

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a compiled plan readably: provenance, tokenizer, weights, arena, KV cache and every step.",
        discussion: """
            Reads and validates plan.pb (its own checksum, structure, sizes, offsets) and maps weights.bin, checking \
            its length; --verify also checks every tensor's CRC-32C and the blob's SHA-256. --listing prints the canonical \
            listing that the C reader (pare-plan-dump) prints for the same plan. --json prints a summary object.
            """)

    @Argument(help: ArgumentHelp("A plan directory written by `pare compile`.", valueName: "plan"))
    var plan: String

    @Flag(help: "Check every tensor's checksum and the weight blob's SHA-256.")
    var verify = false

    @Flag(help: "Print the canonical listing (the same text as pare-plan-dump).")
    var listing = false

    @Flag(help: "Print a JSON summary.")
    var json = false

    /// The KL one pruning pass cost, as measured when it ran.
    struct KL: Encodable {
        var pass: String
        var mean: Double
        var median: Double
        var p99: Double
        var max: Double
        var top1: Double
        var positions: Int
    }

    struct Summary: Encodable {
        var plan: String
        var format_version: Int
        var model: String
        var architecture: String
        var source_sha256: String
        var pipeline: String
        var lowering: String
        var vocabulary: Int
        var original_vocabulary: Int
        var hidden: Int
        var max_rows: Int
        var max_context: Int
        var blocks: [Int]
        var steps: Int
        var kernels: [String: Int]
        var tensors: Int
        var weight_bytes: Int
        var arena_bytes: Int
        var arena_bytes_without_reuse: Int
        var kv_bytes_per_position: Int
        var kl: [KL]
        var verified: Bool
    }

    func run() throws {
        try reportingErrors {
            let loaded = try PlanDirectory.read(plan, verifyChecksums: verify)
            if verify { try loaded.verifySHA256() }
            let p = loaded.plan
            if listing { print(planListing(p), terminator: ""); return }
            let kv = p.kvLayers.reduce(0) { $0 + 2 * $1.width * 4 }
            if json {
                try printJSON(Summary(
                    plan: plan, format_version: p.formatVersion, model: p.provenance.modelName, architecture: p.provenance.architecture,
                    source_sha256: p.provenance.sourceSHA256, pipeline: p.provenance.pipeline, lowering: p.provenance.lowering,
                    vocabulary: p.model.vocabSize, original_vocabulary: p.tokenizer.originalSize, hidden: p.model.hidden,
                    max_rows: p.model.maxRows, max_context: p.model.maxContext, blocks: p.kvLayers.map(\.block), steps: p.steps.count,
                    kernels: Dictionary(p.steps.map { ($0.kernel.rawValue, 1) }, uniquingKeysWith: +), tensors: p.tensors.count,
                    weight_bytes: p.weights.length, arena_bytes: p.arena.bytes(rows: p.model.maxRows),
                    arena_bytes_without_reuse: p.arena.noReuseRowFloats * p.model.maxRows * 4, kv_bytes_per_position: kv,
                    kl: p.provenance.kl.map { KL(pass: $0.pass, mean: $0.mean, median: $0.median, p99: $0.p99, max: $0.max,
                                                top1: $0.top1Agreement, positions: $0.positions) },
                    verified: verify))
                return
            }
            var out: [String] = []
            let pv = p.provenance
            out.append("plan \(plan) (format v\(p.formatVersion), written by pare \(pv.pareVersion))")
            out.append("  model        @\(pv.modelName) (\(pv.architecture)) from \(pv.sourceFormat) \(pv.sourcePath)")
            out.append("  source       sha256 \(pv.sourceSHA256)")
            out.append("  pruning      \(pv.pipeline)")
            for k in pv.kl {
                out.append(String(format: "    %@: KL mean %.4g, median %.4g, p99 %.4g, max %.4g, top-1 %.1f%% over %d positions",
                                  k.pass, k.mean, k.median, k.p99, k.max, 100 * k.top1Agreement, k.positions))
            }
            for s in pv.seeds { out.append("    \(s.key) = \(s.value)") }
            out.append("  lowering     \(pv.lowering)")
            let t = p.tokenizer
            out.append("  tokenizer    \(t.tokens.count) tokens (of \(t.originalSize)), \(t.merges.count) merges, pre-tokenizer \(t.preTokenizer)"
                + (t.idMap.isEmpty ? "" : ", id map new->old") + "; specials: "
                + t.specials.map { "\($0.role)=\($0.id)" }.joined(separator: " "))
            out.append("  shape        hidden \(p.model.hidden), vocabulary \(p.model.vocabSize), \(p.kvLayers.count) blocks "
                + "[\(p.kvLayers.map { String($0.block) }.joined(separator: " "))], max context \(p.model.maxContext)")
            let byDType = Dictionary(p.tensors.map { ($0.dtype.rawValue, ($0.length, 1)) }, uniquingKeysWith: { ($0.0 + $1.0, $0.1 + $1.1) })
            let dtypes = byDType.sorted { $0.value.0 > $1.value.0 }.map { "\($0.key) \($0.value.1) (\(bytes($0.value.0)))" }.joined(separator: ", ")
            out.append("  weights      \(p.tensors.count) tensors, \(bytes(p.weights.length)) in \(p.weights.file), 64-byte aligned: \(dtypes)"
                + (verify ? ", checksums and sha256 verified" : "") + "\n               sha256 \(p.weights.sha256)")
            out.append("  arena        \(p.buffers.count) buffers in \(p.arena.rowFloats) floats/row = \(bytes(p.arena.bytes(rows: p.model.maxRows))) "
                + "for \(p.model.maxRows) rows; without reuse \(p.arena.noReuseRowFloats) floats/row = "
                + "\(bytes(p.arena.noReuseRowFloats * p.model.maxRows * 4))"
                + String(format: " (%.1fx smaller)", Double(p.arena.noReuseRowFloats) / Double(max(p.arena.rowFloats, 1))))
            out.append("  kv cache     \(bytes(kv)) per position (keys + values, f32); \(bytes(kv * p.model.maxContext)) at the full context")
            out.append("")
            out.append("tensors (name, dtype, shape, bytes, offset, crc32c):")
            for x in p.tensors {
                let shape = "[" + x.shape.map(String.init).joined(separator: ", ") + "]"
                out.append("  " + pad(x.name, 36) + " " + pad(x.dtype.rawValue, 5) + " " + pad(shape, 14) + " " + pad(bytes(x.length), 10, left: true) + " @"
                    + pad(String(x.offset), 11) + " " + String(format: "%08x", x.checksum))
            }
            out.append("")
            out.append("kv layers (slot: block, kv_heads x head_dim):")
            for l in p.kvLayers { out.append("  \(l.slot): block \(l.block), \(l.kvHeads) x \(l.headDim)") }
            out.append("")
            out.append("steps (kernel inputs -> output [width @ arena offset], weights, attributes):")
            for (i, s) in p.steps.enumerated() { out.append("  " + stepLine(i, s, p)) }
            print(out.joined(separator: "\n"))
        }
    }

    /// `12 qkv_rope %11 -> %12 [1152 @ 896] w blk.0.attn_qkv.weight, blk.0.attn_qkv.bias {eps=1e-06 heads=14 ...} block 0`.
    func stepLine(_ i: Int, _ s: Step, _ p: ExecutionPlan) -> String {
        let ins = s.inputs.map { p.buffers[$0].name }.joined(separator: ", ")
        let out = p.buffers[s.output]
        var line = "\(i) \(s.kernel.rawValue) \(ins.isEmpty ? "tokens" : ins) -> \(out.name) [\(out.width) @ \(out.offset)]"
        if !s.weights.isEmpty { line += " w " + s.weights.map { p.tensors[$0].name }.joined(separator: ", ") }
        var attrs: [String] = []
        if let e = s.eps { attrs.append("eps=\(e)") }
        if s.heads > 0 { attrs.append("heads=\(s.heads)") }
        if s.kvHeads > 0 { attrs.append("kv_heads=\(s.kvHeads)") }
        if s.headDim > 0 { attrs.append("head_dim=\(s.headDim)") }
        if s.theta > 0 { attrs.append("theta=\(s.theta)") }
        if s.kernel == .attention || s.kernel == .attentionQKV { attrs.append("kv_slot=\(s.kvSlot)") }
        if s.ffn > 0 { attrs.append("ffn=\(s.ffn)") }
        if !attrs.isEmpty { line += " {" + attrs.joined(separator: " ") + "}" }
        if let b = s.block { line += " block \(b)" }
        return line
    }
}

/// `s` padded with spaces to `width` characters (on the left when `left`); longer strings are left whole.
func pad(_ s: String, _ width: Int, left: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - s.count))
    return left ? fill + s : s + fill
}
