// Opening a compiled plan (`model.pare/`) for the commands that accept either a model or a plan.
import Foundation
import ParePlan
import PareRuntime
import PareTokenizer

/// True when `path` is a plan directory written by `pare compile` (it holds plan.pb).
func isPlan(_ path: String) -> Bool {
    var dir: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &dir) && dir.boolValue
        && FileManager.default.fileExists(atPath: path + "/" + PlanDirectory.planFile)
}

/// A plan loaded, validated and ready to run.
struct OpenPlan {
    var loaded: LoadedPlan
    var runtime: PlanRuntime
    var tokenizer: BPETokenizer
    /// Seconds to read, validate and checksum the plan and map its weights.
    var loadSeconds: Double

    init(_ path: String, verifyChecksums: Bool = true) throws {
        let t0 = Date()
        loaded = try PlanDirectory.read(path, verifyChecksums: verifyChecksums)
        runtime = try PlanRuntime(plan: loaded.plan, weights: loaded.weights, keepAlive: loaded)
        tokenizer = try makeTokenizer(loaded.plan.tokenizer)
        loadSeconds = Date().timeIntervalSince(t0)
    }

    /// The plan's end-of-sequence ids (eos, eot).
    var stop: Set<Int> { Set(loaded.plan.tokenizer.specials.filter { ["eos", "eot"].contains($0.role) }.map(\.id)) }
}
