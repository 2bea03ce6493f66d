// layer-prune: removes whole transformer blocks, greedily and iteratively (Flab-Pruner, Algorithm 2): score every
// remaining candidate, remove the least damaging, re-score on the smaller model, repeat.
//
//   block 1 {hidden = 8, heads = 2, kv_heads = 1, head_dim = 4, ffn = 16}
//   %16 = add %9, %15 block 0 : tensor<?x8xf32>                          // block 0's output
//   %17 = rms_norm %16, @blk.1.attn_norm.weight {eps = 1e-05} block 1 : tensor<?x8xf32>
//   ...                                                                   // block 1: 16 ops, 9 parameters
//   %32 = add %25, %31 block 1 : tensor<?x8xf32>                          // block 1's output
//   %33 = rms_norm %32, @blk.2.attn_norm.weight {eps = 1e-05} block 2 : tensor<?x8xf32>
//   %39 = attention %37, %38, %36 {head_dim = 4, heads = 2, kv_heads = 1, kv_slot = 2} block 2 : tensor<?x8xf32>
// -> layer-prune{remove=1}
//   %16 = add %9, %15 block 0 : tensor<?x8xf32>
//   %17 = rms_norm %16, @blk.2.attn_norm.weight {eps = 1e-05} block 2 : tensor<?x8xf32>
//   %23 = attention %21, %22, %20 {head_dim = 4, heads = 2, kv_heads = 1, kv_slot = 1} block 2 : tensor<?x8xf32>
//   (block 1's ops, parameters and declaration are gone; kv slots are dense again; blocks keep their indices, so
//    records and parameter names still name the original layers)
//
// Candidates are the blocks between the first `protect-first` and the last `protect-last` (default 1 and 1: ShortGPT
// measures the highest block influence at the first block, and UIDL prunes deep layers but keeps the final one,
// which writes straight into the LM head; on SmolLM2, removing block 0 costs the most KL of all 30 and block 29 is
// among the four worst). A candidate's score comes from a `LayerScorer` (Scoring/LayerScorers.swift), its logits
// from a `LayerProbe` (Scoring/LayerScoreProbe.swift), which runs only the blocks after it.
import Foundation
import PareIR
import PareInterpreter

/// Why `layer-prune` cannot work on a module.
public enum LayerPruneError: Error, LocalizedError {
    /// The module's blocks are not llama/qwen2-style blocks (see `Module.blockAnatomy`).
    case unreadableBlocks(String)

    public var errorDescription: String? {
        switch self {
        case .unreadableBlocks(let why): return "layer-prune: cannot read the module's blocks: \(why)"
        }
    }
}

/// `layer-prune{count=N | kl-budget=X | remove=I;J, criterion=kl|bi|angular|ppl, protect-first=N, protect-last=N}`.
/// Statistics: blocks before and after, removed (original indices, in removal order), criterion, best score per
/// iteration, candidates scored, parameters and tensors removed, seconds. Records: `removed`, `criterion`,
/// `protect_first`, `protect_last`, `scores.<iteration>` (`block:score` for every candidate), `stop` (kl-budget).
public struct LayerPrune: Pass {
    /// When the pass stops.
    public enum Goal: Sendable, Equatable {
        /// Remove exactly this many blocks.
        case count(Int)
        /// Remove blocks while the mean KL against the module the pass started from stays within this budget.
        case klBudget(Double)
        /// Remove these blocks, in this order, without scoring (reproducing or testing a decision).
        case explicit([Int])
    }

    /// `layer-prune`.
    public let name = "layer-prune"
    /// One line for `pare passes` and the docs.
    public let summary = "Remove whole transformer blocks, greedily by KL (or block influence, angular distance, perplexity)"
    /// True: it removes parameters, so the pass manager KL-checks it.
    public let isPruning = true
    /// When to stop: a count, a KL budget, or an explicit list.
    public var goal: Goal
    /// How candidates are scored (ignored by `.explicit`).
    public var criterion: LayerCriterion
    /// Blocks at the start (in op order) that are never removed.
    public var protectFirst: Int
    /// Blocks at the end that are never removed.
    public var protectLast: Int

    /// A pass with these settings.
    public init(goal: Goal, criterion: LayerCriterion = .kl, protectFirst: Int = 1, protectLast: Int = 1) {
        self.goal = goal
        self.criterion = criterion
        self.protectFirst = protectFirst
        self.protectLast = protectLast
    }

    /// The registry entry: options and how to make the pass from them.
    public static var entry: PassRegistry.Entry {
        PassRegistry.Entry(name: "layer-prune", summary: LayerPrune(goal: .count(1)).summary, options: [
            OptionSpec("count", .int(1...100_000), help: "remove this many blocks (exactly one of count, kl-budget, remove)"),
            OptionSpec("kl-budget", .double(0...1_000_000),
                       help: "remove blocks while mean KL against the module the pass started from stays <= this"),
            OptionSpec("remove", .string, help: "remove exactly these blocks, in this order, without scoring: 3;7 or 3..5;9"),
            OptionSpec("criterion", .choice(LayerCriterion.allCases.map(\.rawValue)), default: "kl",
                       help: "how candidates are scored: kl (Flab-Pruner), bi (ShortGPT), angular (UIDL), ppl (SLEB)"),
            OptionSpec("protect-first", .int(0...100_000), default: "1", help: "never remove the first N blocks"),
            OptionSpec("protect-last", .int(0...100_000), default: "1", help: "never remove the last N blocks"),
        ], isPruning: true, make: { try LayerPrune(options: $0) })
    }

    /// Makes the pass from pipeline options; throws `PassError.badOption` unless exactly one of `count`,
    /// `kl-budget` and `remove` is given, or when `remove` is malformed or given with `criterion`.
    public init(options o: PassOptions) throws {
        let given = ["count", "kl-budget", "remove"].filter { o.has($0) }
        guard given.count == 1 else {
            throw PassError.badOption(pass: "layer-prune", option: given.last ?? "count",
                                      message: given.isEmpty ? "give one of count=N, kl-budget=X or remove=I;J"
                                        : "give only one of count, kl-budget and remove (got \(given.joined(separator: " and ")))")
        }
        switch given[0] {
        case "count": goal = .count(o.int("count") ?? 0)
        case "kl-budget": goal = .klBudget(o.double("kl-budget") ?? 0)
        default:
            guard !o.has("criterion") else {
                throw PassError.badOption(pass: "layer-prune", option: "criterion",
                                          message: "criterion has no effect with remove (nothing is scored)")
            }
            goal = .explicit(try LayerPrune.parseBlockList(o.string("remove") ?? ""))
        }
        criterion = LayerCriterion(rawValue: o.string("criterion") ?? "kl") ?? .kl
        protectFirst = o.int("protect-first") ?? 1
        protectLast = o.int("protect-last") ?? 1
    }

    /// Parses `3;7`, `3 7`, `3+7`, `3..5;9` (inclusive range) or `[3, 7]` (quoted in a pipeline) into block
    /// indices, in order.
    public static func parseBlockList(_ text: String) throws -> [Int] {
        let bad = { (why: String) in
            PassError.badOption(pass: "layer-prune", option: "remove", message: "option 'remove' \(why), got '\(text)'")
        }
        let body = text.trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
        var out: [Int] = []
        for item in body.split(whereSeparator: { ";+, ".contains($0) }) {
            let ends = item.components(separatedBy: "..")
            guard (1...2).contains(ends.count), let a = Int(ends[0]), let b = Int(ends[ends.count - 1]), a >= 0, a <= b else {
                throw bad("expects block indices like 3;7 or 3..5;9")
            }
            guard b < 100_000, out.count + (b - a) < 100_000 else { throw bad("names more blocks than any model has") }
            out += Array(a...b)
        }
        guard !out.isEmpty else { throw bad("names no block") }
        guard Set(out).count == out.count else { throw bad("names a block twice") }
        return out
    }

    private func badOption(_ option: String, _ message: String) -> PassError {
        PassError.badOption(pass: name, option: option, message: message)
    }

    /// Removes blocks as the goal says, records the decision, and reports statistics. Searching needs the context's
    /// weight store and calibration set; `.explicit` needs neither.
    public func run(_ r: inout Rewriter, context: PassContext) throws -> PassStatistics {
        let started = Date()
        let order = try LayerPrune.anatomy(of: r.module).map(\.index)
        let candidates = protectFirst + protectLast < order.count ? Array(order[protectFirst..<(order.count - protectLast)]) : []
        let parametersBefore = r.module.parameters
        var search = Search()

        switch goal {
        case .explicit(let list):
            for b in list where !candidates.contains(b) {
                throw badOption("remove", order.contains(b)
                    ? "block \(b) is protected (protect-first=\(protectFirst), protect-last=\(protectLast))"
                    : "the module has no block \(b) (blocks: \(order.map(String.init).joined(separator: ", ")))")
            }
            for b in list { try LayerPrune.removeBlock(b, from: &r) }
            search.removed = list
        case .count(let n):
            guard n < candidates.count else {
                throw badOption("count", "count=\(n) must be below the \(candidates.count) candidate blocks "
                                + "(\(order.count) blocks, protect-first=\(protectFirst), protect-last=\(protectLast))")
            }
            try greedy(&r, candidates: candidates, context: context, search: &search)
        case .klBudget:
            guard candidates.count >= 2 else {
                throw badOption("kl-budget", "protect-first=\(protectFirst) and protect-last=\(protectLast) leave "
                                + "\(candidates.count) of \(order.count) blocks as candidates; at least 2 are needed")
            }
            try greedy(&r, candidates: candidates, context: context, search: &search)
        }

        let kept = Set(r.module.parameters.map(\.name))
        let gone = parametersBefore.filter { !kept.contains($0.name) }
        let removedText = "[" + search.removed.map(String.init).joined(separator: ", ") + "]"
        let criterionText: String
        if case .explicit = goal { criterionText = "explicit" } else { criterionText = criterion.rawValue }
        context.record(&r, "removed", .string(removedText))
        context.record(&r, "criterion", .string(criterionText))
        context.record(&r, "protect_first", .int(protectFirst))
        context.record(&r, "protect_last", .int(protectLast))
        for (k, line) in search.scoreLines.enumerated() { context.record(&r, "scores.\(k + 1)", .string(line)) }
        if let stop = search.stop { context.record(&r, "stop", .string(stop)) }

        var stats = PassStatistics()
        stats.add("blocks before", order.count)
        stats.add("blocks after", r.module.blocks.count)
        stats.add("removed", .string(removedText))
        stats.add("criterion", .string(criterionText))
        if case .explicit = goal {} else {
            stats.add("best scores", .string(search.best.map(LayerPrune.format).joined(separator: " ")))
            stats.add("candidates scored", search.scored)
        }
        if let stop = search.stop { stats.add("stopped", .string(stop)) }
        stats.add("parameters removed", gone.reduce(0) { $0 + $1.count })
        stats.add("tensors removed", gone.count)
        if case .explicit = goal {} else { stats.add("seconds", .float((Date().timeIntervalSince(started) * 1000).rounded() / 1000)) }
        return stats
    }

    /// What the greedy search did, for statistics and records.
    private struct Search {
        var removed: [Int] = []
        var best: [Double] = []
        var scoreLines: [String] = []
        var scored = 0
        var stop: String?
    }

    /// Algorithm 2: score every remaining candidate on the current module, remove the best, repeat.
    private func greedy(_ r: inout Rewriter, candidates: [Int], context: PassContext, search: inout Search) throws {
        let store = try context.requireStore(name)
        let sequences = try context.sequences(for: r.module, pass: name)
        guard !sequences.isEmpty else { throw PassError.needsData(pass: name, what: "calibration sequences the module's vocabulary can read") }
        if criterion == .ppl && !sequences.contains(where: { $0.count >= 2 }) {
            throw PassError.needsData(pass: name, what: "calibration sequences of at least 2 tokens (ppl scores next tokens)")
        }
        var budget: Double?
        if case .klBudget(let x) = goal { budget = x }
        var planned: Int?
        if case .count(let n) = goal { planned = n }

        var t = Date()
        var probe = try LayerProbe(r.module, store: store, sequences: sequences, keepLogits: criterion == .kl || budget != nil)
        var captureSeconds = Date().timeIntervalSince(t)
        let reference = probe.logits.isEmpty ? nil : ReferenceDistribution(logits: probe.takeLogits())
        let scorer = try criterion.scorer {
            guard let reference else { throw PassError.needsData(pass: name, what: "reference logits") }
            return reference
        }

        var remaining = candidates
        var candidateSeconds = 0.0
        var iteration = 0
        while remaining.count > 1 {
            if let planned, search.removed.count == planned { break }
            iteration += 1
            if iteration > 1 {
                t = Date()
                probe = try LayerProbe(r.module, store: store, sequences: sequences, keepLogits: false)
                captureSeconds = Date().timeIntervalSince(t)
            }
            let positions = try remaining.map { b in
                guard let p = probe.blocks.firstIndex(where: { $0.index == b }) else {
                    throw LayerPruneError.unreadableBlocks("block \(b) vanished")
                }
                return p
            }
            t = Date()
            let doneBefore = search.scored
            let scores = try scorer.scores(positions, probe: probe) { k in
                guard scorer.runsCandidates else { return }
                let perCandidate = (candidateSeconds + Date().timeIntervalSince(t)) / Double(doneBefore + k)
                var left = Double(positions.count - k) * perCandidate
                // Iteration j scores candidates.count - j + 1 blocks after one capture run.
                if let planned, planned > iteration {
                    for j in (iteration + 1)...planned { left += Double(candidates.count - j + 1) * perCandidate + captureSeconds }
                }
                let of = planned.map { "/\($0)" } ?? ""
                let scope = planned == nil ? " for this iteration" : ""
                context.progress("\(name): iteration \(iteration)\(of), candidate \(k)/\(positions.count), ETA \(Int(left.rounded())) s\(scope)")
            }
            candidateSeconds += Date().timeIntervalSince(t)
            search.scored += positions.count
            let bestK = scores.indices.min { LayerPrune.less(scores[$0], scores[$1]) } ?? 0
            search.best.append(scores[bestK])
            search.scoreLines.append(zip(remaining, scores).map { "\($0):\(LayerPrune.format($1))" }.joined(separator: " "))
            if !scorer.runsCandidates {
                context.progress("\(name): iteration \(iteration)\(planned.map { "/\($0)" } ?? ""), scored \(positions.count) candidates")
            }

            if let budget {
                let kl = try criterion == .kl ? scores[bestK] : klOfBypass(positions[bestK], probe: probe, reference: reference)
                guard kl <= budget else {
                    search.stop = "removing block \(remaining[bestK]) next would give mean KL \(LayerPrune.format(kl))"
                        + " > budget \(LayerPrune.format(budget))"
                    break
                }
            }
            try LayerPrune.removeBlock(remaining[bestK], from: &r)
            search.removed.append(remaining[bestK])
            remaining.remove(at: bestK)
        }
        if budget != nil && search.stop == nil { search.stop = "one candidate block left" }
    }

    /// Mean KL against the reference of the probed module with the block at `position` bypassed.
    private func klOfBypass(_ position: Int, probe: LayerProbe, reference: ReferenceDistribution?) throws -> Double {
        guard let reference else { throw PassError.needsData(pass: name, what: "reference logits") }
        return reference.meanKL(try probe.sequences.indices.map { try probe.bypassLogits(position, sequence: $0) })
    }

    /// Orders scores with NaN last, so a broken candidate is never the best.
    static func less(_ a: Double, _ b: Double) -> Bool { a.isNaN ? false : (b.isNaN ? true : a < b) }

    /// `%.6g`.
    static func format(_ x: Double) -> String { String(format: "%.6g", x) }

    static func anatomy(of m: Module) throws -> [BlockAnatomy] {
        do { return try m.blockAnatomy() } catch { throw LayerPruneError.unreadableBlocks("\(error)") }
    }
}

extension LayerPrune {
    /// Removes block `index` through the rewriter: every use of its output reads its input instead, its ops are
    /// erased, the parameters only it read are removed, its dims leave the block table, and the attention ops left
    /// get dense kv slots 0..<n in their old order. Other blocks keep their indices. Returns the removed parameters.
    @discardableResult
    public static func removeBlock(_ index: Int, from r: inout Rewriter) throws -> [Parameter] {
        guard let b = try anatomy(of: r.module).first(where: { $0.index == index }) else {
            throw PassError.badOption(pass: "layer-prune", option: "remove", message: "the module has no block \(index)")
        }
        r.replaceAllUses(of: b.output, with: b.input)
        let ops = Array(r.ops[b.ops])
        for op in ops.reversed() { try r.erase(op.result) }

        var seen = Set<String>()
        let read = ops.flatMap(\.paramOperands).filter { seen.insert($0).inserted }
        let unread = Set(read.filter { r.users(ofParameter: $0).isEmpty })
        let gone = r.module.parameters.filter { unread.contains($0.name) }
        for name in read where unread.contains(name) { try r.removeParameter(name) }

        r.setBlocks(r.module.blocks.filter { $0.index != index })
        let attention = r.ops.filter { $0.kind.isAttention }.enumerated()
            .sorted { ($0.element.int("kv_slot") ?? Int.max, $0.offset) < ($1.element.int("kv_slot") ?? Int.max, $1.offset) }
            .map(\.element)
        for (slot, op) in attention.enumerated() where op.int("kv_slot") != slot {
            try r.updateOp(op.result) { $0.attributes["kv_slot"] = .int(slot) }
        }
        return gone
    }
}
