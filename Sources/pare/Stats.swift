// `pare stats MODEL`: parameter counts per component, block dims and vocabulary size of a module.
import ArgumentParser
import PareFrontend
import PareIR
import ParePasses

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Count a model's parameters per component (embedding, attention, FFN, norms, LM head).",
        discussion: """
            Components are found from how ops use each parameter, not from names: the table `embed` reads, the \
            matrix of the final linear (the LM head; a tied table counts once, under embedding), each block's \
            gate/up/down (FFN), its other linears (attention, biases included) and every rms_norm weight. \
            Works on checkpoints and on pruned .pir files alike.
            """)

    @OptionGroup var model: ModelOptions

    @Flag(help: "Print JSON.")
    var json = false

    struct Report: Encodable {
        var total: Int
        var embedding: Int
        var lm_head: Int
        var attention: Int
        var ffn: Int
        var norms: Int
        var blocks: Int
        var vocabulary: Int
        var ffn_widths: [Int]
        var tied: Bool
    }

    func run() throws {
        try reportingErrors {
            let r = try componentCounts(loadModel(model.model).module)
            if json { try printJSON(r); return }
            func line(_ name: String, _ n: Int) -> String {
                "  \(name.padding(toLength: 10, withPad: " ", startingAt: 0)) \(String(n).leftPad(12))  \(String(format: "%5.1f%%", 100 * Double(n) / Double(max(r.total, 1))))"
            }
            print("\(model.model): \(r.total) parameters, \(r.blocks) blocks, vocabulary \(r.vocabulary)\(r.tied ? " (tied head)" : "")")
            for (n, v) in [("embedding", r.embedding), ("attention", r.attention), ("ffn", r.ffn), ("norms", r.norms), ("lm_head", r.lm_head)] {
                print(line(n, v))
            }
            let widths = Set(r.ffn_widths)
            print("  ffn width \(widths.count == 1 ? "\(widths.first!) in every block" : r.ffn_widths.map(String.init).joined(separator: ","))")
        }
    }
}

/// Parameter counts per component, found from op usage.
func componentCounts(_ m: Module) throws -> Stats.Report {
    let size = { (name: String) in m.parameter(name)?.count ?? 0 }
    var seen = Set<String>()
    func take(_ name: String?) -> Int {
        guard let name, seen.insert(name).inserted else { return 0 }
        return size(name)
    }
    var embedding = 0, head = 0, attention = 0, ffn = 0, norms = 0
    for op in m.function.ops where op.kind == .embed { embedding += take(op.paramOperands.first) }
    let headOp = m.function.ops.first { $0.result == m.function.result && $0.kind == .linear }
    let headName = headOp?.paramOperands.first
    let tied = headName != nil && seen.contains(headName!)
    head += take(headName)
    let anatomy = try m.blockAnatomy()
    let ffnValues = Set(anatomy.flatMap { [$0.gate.result, $0.up.result, $0.down.result] })
    for op in m.function.ops {
        switch op.kind {
        case .rmsNorm: norms += op.paramOperands.map { take($0) }.reduce(0, +)
        case .linear where ffnValues.contains(op.result): ffn += op.paramOperands.map { take($0) }.reduce(0, +)
        case .linear: attention += op.paramOperands.map { take($0) }.reduce(0, +)
        default: break
        }
    }
    return Stats.Report(total: embedding + head + attention + ffn + norms, embedding: embedding, lm_head: head, attention: attention,
                        ffn: ffn, norms: norms, blocks: m.blocks.count, vocabulary: m.vocabulary.size,
                        ffn_widths: m.blocks.map(\.ffn), tied: tied)
}

extension String {
    fileprivate func leftPad(_ n: Int) -> String { String(repeating: " ", count: max(0, n - count)) + self }
}
