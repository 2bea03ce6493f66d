// The pass manager: runs scheduled passes over a module with verification, IR printing, numbered dumps,
// timing, parameter counts, decision records, and the checks that reject a pruning pass over its budget: KL on
// calibration code, or, for a pass that changes the tokenizer, loss per byte and KL on held-out text.
import Foundation
import PareIR
import PareInterpreter

/// When the manager prints the module's IR (to its `irSink`).
public enum IRPrinting: String, Sendable, CaseIterable {
    /// Never.
    case never
    /// After every pass, changed or not.
    case afterAll = "after-all"
    /// After passes that changed the module (a rejected pass did not).
    case afterChange = "after-change"
}

/// What one pass did, for the report and `pare opt --json`.
public struct PassRecord: Codable, Sendable, Equatable {
    /// Position in the pipeline, from 1.
    public var index: Int
    /// The pass name.
    public var pass: String
    /// The explicit options as spelled in a pipeline (`count=3`), empty when none.
    public var options: String
    /// True if the pass changed the module and the change was kept.
    public var changed: Bool
    /// True if a pruning pass went over the KL budget: its change was discarded.
    public var rejected: Bool
    /// Why it was rejected: `KL mean 0.31 exceeds the budget 0.1`.
    public var rejection: String?
    /// Wall-clock seconds of the pass itself.
    public var seconds: Double
    /// Wall-clock seconds of the KL check after it (0 when none ran).
    public var klSeconds: Double
    /// The pass's statistics, values as text (strings unquoted).
    public var statistics: [String: String]
    /// The statistic names in the order the pass reported them.
    public var statisticsOrder: [String]
    /// Parameters (scalars) before the pass.
    public var parametersBefore: Int
    /// Parameters after it (equal to before when rejected or unchanged).
    public var parametersAfter: Int
    /// Parameters the rejected candidate had, when rejected.
    public var parametersRejected: Int?
    /// KL(before ‖ after) on the calibration set, for pruning passes that changed the module.
    public var kl: KLStatistics?
    /// The budget it was held to, if any.
    public var klBudget: Double?
    /// The held-out check of a pass that changed the tokenizer (then `kl` is its KL at aligned positions).
    public var heldOut: HeldOutStatistics?
    /// The largest relative increase of held-out loss per byte it was held to, if any.
    public var heldOutBudget: Double?
    /// The metadata prefix its decisions are recorded under (`decision.2`), when it recorded any.
    public var decision: String?

    enum CodingKeys: String, CodingKey {
        case index, pass, options, changed, rejected, rejection, seconds, statistics, kl, decision
        case klSeconds = "kl_seconds", statisticsOrder = "statistics_order", parametersBefore = "parameters_before"
        case parametersAfter = "parameters_after", parametersRejected = "parameters_rejected", klBudget = "kl_budget"
        case heldOut = "held_out", heldOutBudget = "held_out_budget"
    }

    /// Encodes every key, absent values as `null` (so `--json` output always has the same shape).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index)
        try c.encode(pass, forKey: .pass)
        try c.encode(options, forKey: .options)
        try c.encode(changed, forKey: .changed)
        try c.encode(rejected, forKey: .rejected)
        try c.encode(rejection, forKey: .rejection)
        try c.encode(seconds, forKey: .seconds)
        try c.encode(klSeconds, forKey: .klSeconds)
        try c.encode(statistics, forKey: .statistics)
        try c.encode(statisticsOrder, forKey: .statisticsOrder)
        try c.encode(parametersBefore, forKey: .parametersBefore)
        try c.encode(parametersAfter, forKey: .parametersAfter)
        try c.encode(parametersRejected, forKey: .parametersRejected)
        try c.encode(kl, forKey: .kl)
        try c.encode(klBudget, forKey: .klBudget)
        try c.encode(heldOut, forKey: .heldOut)
        try c.encode(heldOutBudget, forKey: .heldOutBudget)
        try c.encode(decision, forKey: .decision)
    }

    /// `layer-prune{count=3}`.
    public var spelling: String { options.isEmpty ? pass : "\(pass){\(options)}" }

    /// `ops erased = 3, parameters erased = 2`, in the pass's order.
    public var statisticsSummary: String {
        statisticsOrder.map { "\($0) = \(statistics[$0] ?? "")" }.joined(separator: ", ")
    }
}

/// The module a pipeline produced and what each pass did.
public struct PipelineResult {
    /// The module after the last pass.
    public var module: Module
    /// One record per pass, in order.
    public var records: [PassRecord]
}

/// A pass threw, its result failed verification, or its KL check could not run. Carries the last valid module
/// (the one before the failing pass) and the records of the passes that completed.
public struct PassFailure: Error, LocalizedError {
    /// Position of the failing pass, from 1.
    public var index: Int
    /// The pipeline's length.
    public var count: Int
    /// The failing pass, as spelled.
    public var pass: String
    /// What went wrong (`PassError.verificationFailed` when the verifier rejected its result).
    public var underlying: Error
    /// The module before the failing pass: valid, with every earlier pass applied.
    public var module: Module
    /// The records of the passes before it.
    public var records: [PassRecord]

    /// True when the pass's result failed verification.
    public var isVerificationFailure: Bool {
        if case PassError.verificationFailed = underlying { return true }
        return false
    }

    /// `pass 2/3 layer-prune{count=3} failed: ...`.
    public var errorDescription: String? {
        "pass \(index)/\(count) \(pass) failed: " + ((underlying as? LocalizedError)?.errorDescription ?? "\(underlying)")
    }
}

/// Runs scheduled passes in order. After each pass it verifies the module (unless `verify` is false); for a
/// pruning pass that changed the module, it measures KL(before ‖ after) on the context's calibration set and,
/// when `klBudget` is set and the mean exceeds it, rejects the pass: the module stays exactly as before it.
/// A pruning pass that changed the tokenizer (the vocabulary) is checked on the context's held-out text instead,
/// each module reading it with its own tokenizer (`measureHeldOut`): rejected when the KL at aligned positions
/// exceeds `klBudget` or the loss per byte grows by more than `heldOutBudget`.
/// Accepted pruning passes get `decision.N.*` metadata (pass, options, their own decisions, KL, calibration).
public struct PassManager {
    /// The passes, in order.
    public var passes: [ScheduledPass]
    /// Verify after every pass (default true).
    public var verify: Bool
    /// When to print IR to `irSink`.
    public var printIR: IRPrinting
    /// Where printed IR goes (a header line, then the module text).
    public var irSink: (String) -> Void
    /// If set, `00-input.pir` and `NN-<pass>.pir` after each pass are written here (atomically).
    public var dumpDirectory: String?
    /// Largest mean KL a pruning pass may cause; nil means no budget (KL is still measured and recorded).
    public var klBudget: Double?
    /// Budgets for particular passes by name (`quantize`), in place of `klBudget` for them.
    public var klBudgetByPass: [String: Double] = [:]
    /// Largest relative increase of held-out loss per byte (0.02 = 2%) a tokenizer-changing pass may cause; nil
    /// means no budget (the held-out check still runs and is recorded when the context has held-out text).
    public var heldOutBudget: Double?
    /// One line per finished pass: `[2/3] layer-prune{count=3} ... 41.2 s, changed`.
    public var log: (String) -> Void

    /// A manager for `passes`; everything else defaults to: verify, no printing, no dumps, no budget, no log.
    public init(passes: [ScheduledPass], verify: Bool = true, printIR: IRPrinting = .never,
                irSink: @escaping (String) -> Void = { print($0, terminator: "") }, dumpDirectory: String? = nil,
                klBudget: Double? = nil, heldOutBudget: Double? = nil, log: @escaping (String) -> Void = { _ in }) {
        self.passes = passes
        self.verify = verify
        self.printIR = printIR
        self.irSink = irSink
        self.dumpDirectory = dumpDirectory
        self.klBudget = klBudget
        self.heldOutBudget = heldOutBudget
        self.log = log
    }

    /// Runs every pass on `input`. Throws `VerificationError` if `input` itself is invalid (when verifying),
    /// `PassFailure` if a pass fails, and `PassDumpError` if a dump cannot be written.
    public func run(_ input: Module, context: PassContext) throws -> PipelineResult {
        if verify { try verifyOrThrow(input) }
        var current = input
        var records: [PassRecord] = []
        var cache: LogitsCache?
        let n = passes.count
        let width = max(2, String(n).count)
        func number(_ i: Int) -> String { String(repeating: "0", count: max(0, width - String(i).count)) + String(i) }
        if let dir = dumpDirectory {
            try prepareDumpDirectory(dir)
            try writeDump(current, to: dir + "/" + number(0) + "-input.pir")
        }

        for (k, scheduled) in passes.enumerated() {
            let index = k + 1, pass = scheduled.pass
            let klBudget = klBudgetByPass[pass.name] ?? self.klBudget  // this pass's budget
            let label = "[\(index)/\(n)] \(scheduled.spelling)"
            func failure(_ e: Error) -> PassFailure {
                PassFailure(index: index, count: n, pass: scheduled.spelling, underlying: e, module: current, records: records)
            }
            let prefix = "decision.\(1 + current.metadata.filter { isDecisionPassKey($0.key) }.count)"
            context.recordPrefix = prefix
            let outerProgress = context.progress
            context.progress = { outerProgress("\(label): \($0)") }
            defer { context.progress = outerProgress }

            // The pass.
            var rewriter = Rewriter(current)
            let t0 = Date()
            let stats: PassStatistics
            do { stats = try pass.run(&rewriter, context: context) } catch { throw failure(error) }
            let seconds = Date().timeIntervalSince(t0)
            var candidate = rewriter.module
            // Decision records alone are not a change: a pass that recorded what it considered but sliced nothing
            // (e.g. ffn-prune{keep=<full width>}) is reported unchanged and gets no KL check or decision number.
            var withoutRecords = candidate
            withoutRecords.metadata.removeAll { $0.key.hasPrefix(prefix + ".") }
            let changed = rewriter.changed && withoutRecords != current
            if verify && changed {
                let d = PareIR.verify(candidate)
                if d.contains(where: { $0.severity == .error }) {
                    if let dir = dumpDirectory { try? writeDump(candidate, to: dir + "/" + number(index) + "-\(pass.name).invalid.pir") }
                    throw failure(PassError.verificationFailed(pass: pass.name, diagnostics: d))
                }
            }

            // The KL check.
            var kl: KLStatistics?
            var klSeconds = 0.0
            var candidateLogits: [(ids: [Int], logits: Tensor)?]?
            var rejection: String?
            var heldOut: HeldOutStatistics?
            let changesTokenizer = candidate.vocabulary != current.vocabulary
            if pass.isPruning && changed && changesTokenizer {
                // A new tokenizer: held-out text, each module reading it with its own tokenizer.
                if let store = context.store, let text = context.heldOut, !text.texts.isEmpty {
                    let t1 = Date()
                    do {
                        let h = try measureHeldOut(before: current, after: candidate, store: store, heldOut: text,
                                                   pass: pass.name, progress: context.progress)
                        heldOut = h
                        kl = h.kl
                    } catch {
                        throw failure(error)
                    }
                    klSeconds = Date().timeIntervalSince(t1)
                    if let h = heldOut {
                        if h.bytes == 0 {
                            rejection = klBudget != nil || heldOutBudget != nil
                                ? "no held-out piece could be compared (no token boundary the two tokenizations share)" : nil
                        } else if let budget = heldOutBudget, !(h.lossIncrease <= budget) {
                            rejection = String(format: "held-out loss per byte grows by %.3g%% (%.4g -> %.4g nats/byte), over the budget %.3g%%",
                                               h.lossIncrease * 100, h.natsPerByteBefore, h.natsPerByteAfter, budget * 100)
                        } else if let budget = klBudget, h.kl.positions == 0 {
                            rejection = "no held-out position where both tokenizations agree, so the KL budget \(budget) cannot be checked"
                        } else if let budget = klBudget, !(h.kl.mean <= budget) {
                            rejection = String(format: "held-out KL mean %.6g at aligned positions exceeds the budget %.6g", h.kl.mean, budget)
                        }
                    }
                } else if klBudget != nil || heldOutBudget != nil {
                    throw failure(PassError.needsData(pass: pass.name, what: "model weights and held-out text for the held-out check of a tokenizer change"))
                }
            } else if pass.isPruning && changed {
                if let store = context.store, let calibration = context.calibration, !calibration.sequences.isEmpty {
                    let t1 = Date()
                    do {
                        let cached = cache.flatMap { $0.module == current ? $0.logits : nil }
                        let (stats, logits) = try measureKL(before: current, after: candidate, store: store,
                                                            calibration: calibration, beforeLogits: cached)
                        kl = stats
                        candidateLogits = logits
                    } catch {
                        throw failure(error)
                    }
                    klSeconds = Date().timeIntervalSince(t1)
                    if let budget = klBudget, let kl {
                        if kl.positions == 0 {
                            rejection = "no calibration position could be compared (the vocabulary after the pass lacks every sequence's first token)"
                        } else if !(kl.mean <= budget) {
                            rejection = String(format: "KL mean %.6g exceeds the budget %.6g", kl.mean, budget)
                        }
                    }
                } else if klBudget != nil {
                    throw failure(PassError.needsData(pass: pass.name, what: "model weights and calibration data for its KL check"))
                }
            }

            // Keep or reject; record decisions.
            let rejected = rejection != nil
            let wroteRecords = candidate.metadata.contains { $0.key.hasPrefix(prefix + ".") }
            var decision: String?
            if !rejected && changed && (pass.isPruning || wroteRecords) {
                candidate = recordDecision(candidate, prefix: prefix, scheduled: scheduled, kl: kl, heldOut: heldOut,
                                           calibration: kl == nil ? nil : (heldOut != nil ? context.heldOut?.origin : context.calibration?.origin))
                decision = prefix
            }
            let before = current.parameterCount
            if !rejected {
                if changed, let logits = candidateLogits { cache = LogitsCache(module: candidate, logits: logits) }
                current = candidate
            }
            var record = PassRecord(index: index, pass: pass.name, options: scheduled.optionsSpelling,
                                    changed: changed && !rejected, rejected: rejected, rejection: rejection,
                                    seconds: seconds, klSeconds: klSeconds, statistics: [:], statisticsOrder: [],
                                    parametersBefore: before, parametersAfter: current.parameterCount,
                                    parametersRejected: rejected ? candidate.parameterCount : nil,
                                    kl: kl, klBudget: pass.isPruning ? klBudget : nil, heldOut: heldOut,
                                    heldOutBudget: heldOut != nil ? heldOutBudget : nil, decision: decision)
            var reported = stats
            if let h = heldOut, h.positionsAfter > 0 {
                // The held-out check measured what the pass could not without running the model.
                reported.add("held-out removed mass", .string(String(format: "%.4g (mean over %d positions)", h.removedMass, h.positionsBefore)))
            }
            for (name, value) in reported.entries {
                record.statistics[name] = value.stringValue ?? value.description
                record.statisticsOrder.append(name)
            }
            records.append(record)

            // Instrumentation.
            if let dir = dumpDirectory { try writeDump(current, to: dir + "/" + number(index) + "-\(pass.name).pir") }
            let state = rejected ? "rejected, module unchanged" : (record.changed ? "changed" : "unchanged")
            if printIR == .afterAll || (printIR == .afterChange && record.changed) {
                irSink("// -----// IR after \(label) (\(state)) //----- //\n" + printModule(current))
            }
            var line = "\(label) ... " + String(format: "%.1f s", seconds)
            if klSeconds > 0 { line += String(format: " + KL check %.1f s", klSeconds) }
            line += ", \(state)"
            if let h = heldOut {
                line += String(format: "; held-out loss %.4g -> %.4g nats/byte (%+.2f%%), KL mean %.4g at %.1f%% aligned positions",
                               h.natsPerByteBefore, h.natsPerByteAfter, h.lossIncrease * 100, h.kl.mean, h.alignedShare * 100)
            } else if let kl { line += String(format: "; KL mean %.4g, top-1 %.1f%%", kl.mean, kl.top1Agreement * 100) }
            if let rejection { line += "; \(rejection)" }
            log(line)
        }
        return PipelineResult(module: current, records: records)
    }
}

/// Logits of one module on each calibration sequence (nil where its vocabulary cut the sequence to nothing).
private struct LogitsCache {
    var module: Module
    /// Per calibration sequence: the ids the module read and its logits.
    var logits: [(ids: [Int], logits: Tensor)?]
}

/// The pruning passes that shaped `m`, in the order they ran, from its decision records (`decision.N.pass` and
/// `.options`): `vocab-prune,layer-prune{count=3}`, or `none`. The same whether `m` was pruned in this process or
/// read back from a `.pir` that `pare opt` wrote.
public func appliedPipeline(_ m: Module) -> String {
    var passes: [String] = []
    var n = 1
    while let pass = m[meta: "decision.\(n).pass"]?.stringValue {
        let options = m[meta: "decision.\(n).options"]?.stringValue ?? ""
        passes.append(options.isEmpty ? pass : "\(pass){\(options)}")
        n += 1
    }
    return passes.isEmpty ? "none" : passes.joined(separator: ",")
}

/// True for `decision.N.pass`.
func isDecisionPassKey(_ key: String) -> Bool {
    let parts = key.split(separator: ".", omittingEmptySubsequences: false)
    return parts.count == 3 && parts[0] == "decision" && Int(parts[1]) != nil && parts[2] == "pass"
}

/// Writes `decision.N.pass` and `.options` first, then the pass's own `decision.N.*` records in the order it wrote
/// them, then `.kl.*`, then `.held_out.*` and `.held_out` (the text) for a tokenizer change checked on held-out text,
/// else `.calibration` (the text the KL check read). Through the rewriter, like every change.
private func recordDecision(_ m: Module, prefix: String, scheduled: ScheduledPass, kl: KLStatistics?,
                            heldOut: HeldOutStatistics?, calibration: String?) -> Module {
    var r = Rewriter(m)
    let own = m.metadata.filter { $0.key.hasPrefix(prefix + ".") && $0.key != prefix + ".pass" && $0.key != prefix + ".options" }
    for (key, _) in m.metadata where key.hasPrefix(prefix + ".") { r.setMetadata(key: key, value: nil) }
    r.setMetadata(key: prefix + ".pass", value: .string(scheduled.pass.name))
    r.setMetadata(key: prefix + ".options", value: .string(scheduled.optionsSpelling))
    for (key, value) in own { r.setMetadata(key: key, value: value) }
    if let kl {
        r.setMetadata(key: prefix + ".kl.mean", value: .float(kl.mean))
        r.setMetadata(key: prefix + ".kl.median", value: .float(kl.median))
        r.setMetadata(key: prefix + ".kl.p99", value: .float(kl.p99))
        r.setMetadata(key: prefix + ".kl.max", value: .float(kl.max))
        r.setMetadata(key: prefix + ".kl.top1", value: .float(kl.top1Agreement))
        r.setMetadata(key: prefix + ".kl.positions", value: .int(kl.positions))
        if kl.removedMassMax > 0 {
            r.setMetadata(key: prefix + ".kl.removed_mass_mean", value: .float(kl.removedMassMean))
            r.setMetadata(key: prefix + ".kl.removed_mass_max", value: .float(kl.removedMassMax))
        }
    }
    if let h = heldOut {
        r.setMetadata(key: prefix + ".held_out.nats_per_byte_before", value: .float(h.natsPerByteBefore))
        r.setMetadata(key: prefix + ".held_out.nats_per_byte_after", value: .float(h.natsPerByteAfter))
        r.setMetadata(key: prefix + ".held_out.loss_increase", value: .float(h.lossIncrease))
        r.setMetadata(key: prefix + ".held_out.bytes", value: .int(h.bytes))
        r.setMetadata(key: prefix + ".held_out.tokenizations_changed", value: .int(h.tokenizationsChanged))
        r.setMetadata(key: prefix + ".held_out.removed_mass", value: .float(h.removedMass))
        r.setMetadata(key: prefix + ".held_out.texts", value: .int(h.texts))
        r.setMetadata(key: prefix + ".held_out.aligned_share", value: .float(h.alignedShare))
    }
    if let calibration { r.setMetadata(key: prefix + (heldOut != nil ? ".held_out" : ".calibration"), value: .string(calibration)) }
    return r.module
}

/// KL(before ‖ after) over `calibration`, both modules reading weights from `store`. `beforeLogits` (per
/// calibration sequence, with the ids they were computed on) skips the before-module's forward passes where the ids
/// match. Returns the after-module's logits too, to serve as the next pass's before-logits.
func measureKL(before: Module, after: Module, store: WeightStore, calibration: Calibration,
               beforeLogits: [(ids: [Int], logits: Tensor)?]?) throws -> (KLStatistics, [(ids: [Int], logits: Tensor)?]) {
    var beforeInterpreter: Interpreter?
    let afterInterpreter = try Interpreter(module: after, store: store)
    let pairs = try calibration.comparison(before: before, after: after)
    var afterLogits = [(ids: [Int], logits: Tensor)?](repeating: nil, count: pairs.count)
    let stats = try compareOnCalibration(
        pairs, before: before, after: after,
        beforeLogits: { s, ids in
            if let c = beforeLogits, s < c.count, let hit = c[s], hit.ids == ids { return hit.logits }
            if beforeInterpreter == nil { beforeInterpreter = try Interpreter(module: before, store: store) }
            return try beforeInterpreter!.forward(ids)
        },
        afterLogits: { s, ids in
            let t = try afterInterpreter.forward(ids)
            afterLogits[s] = (ids, t)
            return t
        })
    return (stats, afterLogits)
}

/// A calibration sequence (source-vocabulary ids) in the ids of `vocabulary`, cut at the first token it lacks.
public struct CalibrationIDMapper {
    private let index: [Int: Int]?

    /// A mapper into `vocabulary` (identity when it was never pruned).
    public init(_ vocabulary: Vocabulary) {
        guard let map = vocabulary.idMap else { index = nil; return }
        var d: [Int: Int] = [:]
        for (new, old) in map.enumerated() { d[old] = new }
        index = d
    }

    /// The sequence in this vocabulary's ids, up to (not including) the first token it lacks.
    public func map(_ sequence: [Int]) -> [Int] {
        guard let index else { return sequence }
        var out: [Int] = []
        for t in sequence {
            guard let n = index[t] else { break }
            out.append(n)
        }
        return out
    }
}

/// KL(P_before ‖ Q_after) per position over `pairs`: the same tokens in each module's ids (from
/// `Calibration.comparison`). P is renormalised over the tokens `after` kept (the mass it put on removed ones is
/// reported apart). The closures return a module's logits `[length, vocab]` for pair number `s` given its ids.
public func compareOnCalibration(_ pairs: [(before: [Int], after: [Int])], before: Module, after: Module,
                                 beforeLogits: (_ s: Int, _ ids: [Int]) throws -> Tensor,
                                 afterLogits: (_ s: Int, _ ids: [Int]) throws -> Tensor) throws -> KLStatistics {
    var acc = KLAccumulator(keep: try vocabularyMapping(from: before.vocabulary, to: after.vocabulary))
    for (s, pair) in pairs.enumerated() where !pair.after.isEmpty {
        let q = try afterLogits(s, pair.after)
        let p = try beforeLogits(s, pair.before)
        for r in 0..<min(p.rows, q.rows) { acc.add(before: p.row(r), after: q.row(r)) }
    }
    return acc.statistics()
}

/// A dump directory or file that cannot be written.
public struct PassDumpError: Error, LocalizedError {
    /// The path.
    public var path: String
    /// Why.
    public var reason: String

    /// `cannot write the IR dump DIR/01-dce.pir: reason`.
    public var errorDescription: String? { "cannot write the IR dump \(path): \(reason)" }
}

/// Creates `dir` if needed and removes earlier numbered dumps from it (`NN-*.pir`), so a dump reflects one run.
func prepareDumpDirectory(_ dir: String) throws {
    let fm = FileManager.default
    var isDir: ObjCBool = false
    if fm.fileExists(atPath: dir, isDirectory: &isDir) {
        guard isDir.boolValue else { throw PassDumpError(path: dir, reason: "it exists and is not a directory") }
    } else {
        do { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw PassDumpError(path: dir, reason: error.localizedDescription)
        }
    }
    let old = ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).filter {
        $0.hasSuffix(".pir") && $0.prefix(while: \.isNumber).count >= 2 && $0.dropFirst($0.prefix(while: \.isNumber).count).hasPrefix("-")
    }
    for name in old { try? fm.removeItem(atPath: dir + "/" + name) }
}

/// Writes a module's text atomically (see `writeTextAtomically`).
func writeDump(_ m: Module, to path: String) throws {
    do { try writeTextAtomically(printModule(m), to: path) } catch let e as IRWriteError {
        throw PassDumpError(path: path, reason: e.reason)
    }
}
