// The plan's canonical text listing: one line per fact, the same bytes `pare-plan-dump` (C) prints for plan.pb.
//
// Format (every line ends with "\n"; `<s>` is a quoted string, see `quoted`; `[a,b]` an integer list):
//   pare-plan format_version=N
//   model name=<s> architecture=<s>
//   counts tensors=N buffers=N kv_layers=N steps=N
//   source format=<s> sha256=<s> path=<s>
//   pipeline <s>
//   lowering <s>
//   pare_version <s>
//   seed <s> = <s>                                  (each seed)
//   kl pass=<s> mean=G median=G p99=G max=G top1_agreement=G positions=N    (each KL report; G is %.17g)
//   metadata <s> = <s>                              (each metadata entry)
//   model_shape hidden=N vocab_size=N max_context=N max_rows=N
//   tokenizer tokens=N kinds=N merges=N pre_tokenizer=<s> id_map=N original_size=N
//   special role=<s> id=N text=<s>                  (each special token)
//   weights file=<s> length=N sha256=<s>
//   arena row_floats=N no_reuse_row_floats=N
//   tensor I name=<s> dtype=T shape=[..] offset=N length=N crc32c=XXXXXXXX   (8 lower-case hex digits)
//   buffer I name=<s> width=N offset=N
//   kv_layer slot=N block=N kv_heads=N head_dim=N
//   step I KERNEL block=N|- inputs=[..] weights=[..] output=N [eps=E] [heads=N] [kv_heads=N] [head_dim=N]
//        [theta=G] [kv_slot=N] [ffn=N] [matrix_parts=N] [norm_gain=1]
//                                               (attributes only when non-zero/present; kv_slot always for
//                                                attention kernels; E is %.9g of the float)
//   output buffer=N
// Floats go through the C library's printf (`%.9g` for Float, `%.17g` for Double: both round-trip exactly), so
// Swift and C print the same digits.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The canonical, stable, line-oriented text of `plan` (see this file's header). No weights, no token strings.
public func planListing(_ plan: ExecutionPlan) -> String {
    var out = ""
    func line(_ s: String) { out += s + "\n" }
    let p = plan.provenance, t = plan.tokenizer, m = plan.model
    line("pare-plan format_version=\(plan.formatVersion)")
    line("model name=\(quoted(p.modelName)) architecture=\(quoted(p.architecture))")
    line("counts tensors=\(plan.tensors.count) buffers=\(plan.buffers.count) kv_layers=\(plan.kvLayers.count) steps=\(plan.steps.count)")
    line("source format=\(quoted(p.sourceFormat)) sha256=\(quoted(p.sourceSHA256)) path=\(quoted(p.sourcePath))")
    line("pipeline \(quoted(p.pipeline))")
    line("lowering \(quoted(p.lowering))")
    line("pare_version \(quoted(p.pareVersion))")
    for e in p.seeds { line("seed \(quoted(e.key)) = \(quoted(e.value))") }
    for k in p.kl {
        line("kl pass=\(quoted(k.pass)) mean=\(g17(k.mean)) median=\(g17(k.median)) p99=\(g17(k.p99)) max=\(g17(k.max))"
             + " top1_agreement=\(g17(k.top1Agreement)) positions=\(k.positions)")
    }
    for e in p.metadata { line("metadata \(quoted(e.key)) = \(quoted(e.value))") }
    line("model_shape hidden=\(m.hidden) vocab_size=\(m.vocabSize) max_context=\(m.maxContext) max_rows=\(m.maxRows)")
    line("tokenizer tokens=\(t.tokens.count) kinds=\(t.kinds.count) merges=\(t.merges.count) pre_tokenizer=\(quoted(t.preTokenizer))"
         + " id_map=\(t.idMap.count) original_size=\(t.originalSize)")
    for s in t.specials { line("special role=\(quoted(s.role)) id=\(s.id) text=\(quoted(s.text))") }
    line("weights file=\(quoted(plan.weights.file)) length=\(plan.weights.length) sha256=\(quoted(plan.weights.sha256))")
    line("arena row_floats=\(plan.arena.rowFloats) no_reuse_row_floats=\(plan.arena.noReuseRowFloats)")
    for (i, x) in plan.tensors.enumerated() {
        line("tensor \(i) name=\(quoted(x.name)) dtype=\(x.dtype.rawValue) shape=\(list(x.shape)) offset=\(x.offset)"
             + " length=\(x.length) crc32c=\(hex8(x.checksum))")
    }
    for (i, b) in plan.buffers.enumerated() { line("buffer \(i) name=\(quoted(b.name)) width=\(b.width) offset=\(b.offset)") }
    for k in plan.kvLayers { line("kv_layer slot=\(k.slot) block=\(k.block) kv_heads=\(k.kvHeads) head_dim=\(k.headDim)") }
    for (i, s) in plan.steps.enumerated() {
        var l = "step \(i) \(s.kernel.rawValue) block=\(s.block.map { "\($0)" } ?? "-") inputs=\(list(s.inputs))"
            + " weights=\(list(s.weights)) output=\(s.output)"
        if let e = s.eps { l += " eps=\(cFormat("%.9g", Double(e)))" }
        if s.heads != 0 { l += " heads=\(s.heads)" }
        if s.kvHeads != 0 { l += " kv_heads=\(s.kvHeads)" }
        if s.headDim != 0 { l += " head_dim=\(s.headDim)" }
        if s.theta != 0 { l += " theta=\(g17(s.theta))" }
        if s.kvSlot != 0 || s.kernel.spec.attends { l += " kv_slot=\(s.kvSlot)" }
        if s.ffn != 0 { l += " ffn=\(s.ffn)" }
        if s.matrixParts != 0 { l += " matrix_parts=\(s.matrixParts)" }
        if s.normGain { l += " norm_gain=1" }
        line(l)
    }
    line("output buffer=\(plan.output)")
    return out
}

/// `s` in double quotes; `"`, `\`, bytes below 0x20 and 0x7f as `\xHH`; other bytes (UTF-8 included) as they are.
private func quoted(_ s: String) -> String {
    var bytes: [UInt8] = [0x22]
    let digits = Array("0123456789abcdef".utf8)
    for b in s.utf8 {
        if b < 0x20 || b == 0x7f || b == 0x22 || b == 0x5c {
            bytes += [0x5c, 0x78, digits[Int(b >> 4)], digits[Int(b & 0xf)]]
        } else {
            bytes.append(b)
        }
    }
    bytes.append(0x22)
    return String(decoding: bytes, as: UTF8.self)
}

/// `[a,b,c]`.
private func list(_ xs: [Int]) -> String { "[" + xs.map { "\($0)" }.joined(separator: ",") + "]" }

/// `v` with `%.17g`.
private func g17(_ v: Double) -> String { cFormat("%.17g", v) }

/// `v` formatted by the C library's printf with `format` (one double conversion), as C code would print it.
private func cFormat(_ format: String, _ v: Double) -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    let n = withVaList([v]) { vsnprintf(&buffer, buffer.count, format, $0) }
    guard n >= 0, n < buffer.count else { return "\(v)" }
    return String(decoding: buffer[0..<Int(n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
