// quantize: round weight matrices through a block format, by role, so that the plan stores them in it.
//
//   param @blk.0.ffn_down.weight : tensor<896x4864xf32> = load "blk.0.ffn_down.weight" q6_k [896, 4864] | cols([...])
// -> quantize{blocks=q8_0}
//   param @blk.0.ffn_down.weight : tensor<896x4608xf32> = load "blk.0.ffn_down.weight" q6_k [896, 4864] | cols([...])
//       | quantize(q8_0)
//
// The view makes the interpreter see exactly the values the plan will hold (each row encoded as ggml's reference
// quantiser does, then decoded), so the pass manager's KL check measures what the format costs, as it measures a
// pruning pass, and rejects it over --kl-budget. Lowering then writes the matrix in that format.
//
// Roles: `embedding` (the table `embed` reads), `head` (a `linear` outside every block: the LM head) and `blocks`
// (every matrix an op of a block reads). A matrix whose checkpoint blocks survive whole (no column selection) in a
// format the kernels read, no wider than the target, is left to the checkpoint's own blocks (`--weights source`
// writes them bit for bit) unless `requant-source=true`. A tied table read as embedding and head with different
// targets gets a copy for the head (`<name>.head`).
import PareIR

/// Rounds weight matrices through block formats by role. Statistics: `matrices quantized`, `kept as source`,
/// `skipped`, `bytes before`, `bytes after` (the matrices' storage, estimated from bits per weight).
public struct Quantize: Pass {
    /// `quantize`.
    public let name = "quantize"
    /// One line for `pare passes` and the docs.
    public let summary = "Store weight matrices in a block format (f16, q8_0, q4_0, q4_1) by role; KL-checked like a pruning pass"
    /// KL-checked by the pass manager, and rejected over the budget, as pruning passes are.
    public var isPruning: Bool { true }

    /// What a role's matrices become: `keep` leaves them as they are.
    public enum Target: String, CaseIterable, Sendable {
        case keep, f16, q8_0, q4_0, q4_1
    }

    /// The embedding table's target.
    public var embedding: Target
    /// The LM head's target.
    public var head: Target
    /// The blocks' matrices' target.
    public var blocks: Target
    /// Re-encode matrices whose checkpoint blocks are already no wider than the target.
    public var requantSource: Bool
    /// Only matrices whose checkpoint blocks a column selection cut.
    public var onlyCut: Bool

    /// Checkpoint block formats the plan's kernels read, with their bits per weight (scales included).
    public static let sourceBits: [String: Double] = ["f16": 16, "q8_0": 8.5, "q6_k": 6.5625, "q5_1": 6, "q5_0": 5.5,
                                                      "q4_1": 5, "q4_0": 4.5, "q4_k": 4.5]

    /// A pass with these targets.
    public init(embedding: Target, head: Target, blocks: Target, requantSource: Bool = false, onlyCut: Bool = false) {
        self.embedding = embedding
        self.head = head
        self.blocks = blocks
        self.requantSource = requantSource
        self.onlyCut = onlyCut
    }

    /// The registry entry: options and how to make the pass from them.
    public static var entry: PassRegistry.Entry {
        let formats = Target.allCases.map(\.rawValue)
        return PassRegistry.Entry(name: "quantize", summary: Quantize(embedding: .q8_0, head: .q8_0, blocks: .q8_0).summary, options: [
            OptionSpec("all", .choice(formats), default: "q8_0", help: "the target of every role not given on its own"),
            OptionSpec("embedding", .choice(formats), help: "the embedding table's target (default: all)"),
            OptionSpec("head", .choice(formats), help: "the LM head's target (default: all)"),
            OptionSpec("blocks", .choice(formats), help: "the target of the blocks' matrices: attention and FFN (default: all)"),
            OptionSpec("requant-source", .choice(["false", "true"]), default: "false",
                       help: "re-encode matrices whose checkpoint blocks are already no wider than the target"),
            OptionSpec("scope", .choice(["all", "cut"]), default: "all",
                       help: "cut: only matrices whose checkpoint blocks a column selection cut (else float32 in the plan)"),
        ], isPruning: true, make: { try Quantize(options: $0) })
    }

    /// Makes the pass from pipeline options.
    public init(options o: PassOptions) throws {
        func target(_ k: String) -> Target { Target(rawValue: o.string(k) ?? o.string("all") ?? "q8_0") ?? .q8_0 }
        self.init(embedding: target("embedding"), head: target("head"), blocks: target("blocks"),
                  requantSource: o.string("requant-source") == "true", onlyCut: o.string("scope") == "cut")
    }

    public func run(_ r: inout Rewriter, context: PassContext) throws -> PassStatistics {
        // Each matrix parameter's role(s): where an op reads it.
        var targets: [String: [(op: Value, operand: Int, target: Target)]] = [:]
        var order: [String] = []
        for op in r.ops {
            for (i, operand) in op.operands.enumerated() {
                guard let name = operand.param, let p = r.module.parameter(name), p.shape.count == 2 else { continue }
                let t: Target = op.kind == .embed ? embedding : op.block == nil && op.kind == .linear ? head : blocks
                if targets[name] == nil { order.append(name) }
                targets[name, default: []].append((op.result, i, t))
            }
        }
        var quantized: [String: Int] = [:]
        var kept = 0, skipped = 0, copied = 0
        var bytesBefore = 0.0, bytesAfter = 0.0
        for name in order {
            guard let uses = targets[name] else { continue }
            // A tied table with two targets: the first use's target stays on it, the others read a copy each.
            var groups: [(target: Target, uses: [(op: Value, operand: Int)])] = []
            for u in uses {
                if let g = groups.firstIndex(where: { $0.target == u.target }) { groups[g].uses.append((u.op, u.operand)) }
                else { groups.append((u.target, [(u.op, u.operand)])) }
            }
            guard let original = r.module.parameter(name) else { continue }
            for (g, group) in groups.enumerated() {
                var p = original  // a copy starts from the table as declared, not as the first group left it
                let bitsNow = Self.bits(of: p)
                let count = Double(p.count)
                if g > 0 {
                    p.name = r.freshParameterName(name + ".head")
                    r.setParameter(p)
                    for u in group.uses { try r.updateOp(u.op) { $0.operands[u.operand] = .param(p.name) } }
                    copied += 1
                }
                bytesBefore += count * bitsNow / 8
                let cut = !Self.wholeSourceRows(p) && Self.sourceBits[p.source.encoding] != nil
                guard group.target != .keep, !onlyCut || cut, p.references.isEmpty,
                      !p.views.contains(where: { if case .quantize = $0 { true } else { false } }),
                      let block = ParameterView.quantizeFormats[group.target.rawValue], p.shape[1] % block == 0,
                      let bitsTarget = ParameterView.quantizeBits[group.target.rawValue] else {
                    if group.target != .keep && (!onlyCut || cut) { skipped += 1 }
                    bytesAfter += count * bitsNow / 8
                    continue
                }
                if !requantSource, Self.wholeSourceRows(p), let src = Self.sourceBits[p.source.encoding], src <= bitsTarget {
                    kept += 1
                    bytesAfter += count * bitsNow / 8
                    continue
                }
                p.views.append(.quantize(group.target.rawValue))
                r.setParameter(p)
                quantized[group.target.rawValue, default: 0] += 1
                bytesAfter += count * bitsTarget / 8
            }
        }
        var stats = PassStatistics()
        stats.add("matrices quantized", quantized.values.reduce(0, +))
        for t in Target.allCases where quantized[t.rawValue] != nil { stats.add("to \(t.rawValue)", quantized[t.rawValue]!) }
        stats.add("kept as source", kept)
        stats.add("skipped", skipped)
        stats.add("copies for the head", copied)
        stats.add("bytes before", Int(bytesBefore.rounded()))
        stats.add("bytes after", Int(bytesAfter.rounded()))
        return stats
    }

    /// True when the chain keeps the checkpoint's rows whole (no column selection, no view reading another parameter).
    static func wholeSourceRows(_ p: Parameter) -> Bool {
        p.views.allSatisfy { v in
            switch v {
            case .rows, .unpermuteRoPE: return true
            default: return false
            }
        }
    }

    /// Bits per weight the matrix takes in a plan as it stands: its quantize(...) format, its checkpoint blocks when
    /// they survive whole in a format the kernels read, else float32.
    static func bits(of p: Parameter) -> Double {
        for v in p.views.reversed() { if case .quantize(let f) = v { return ParameterView.quantizeBits[f] ?? 32 } }
        if wholeSourceRows(p), let b = sourceBits[p.source.encoding] { return b }
        return 32
    }
}
