// Why a module could not be turned into an execution plan.
import Foundation

/// A module is not ready for a plan, or a weight could not be materialised.
public enum LoweringError: Error, LocalizedError, Equatable {
    /// An op has no `arena_offset`: the memory plan is missing or stale.
    case noMemoryPlan(op: String)
    /// The module's vocabulary has no BPE tables to put in the plan.
    case noTokenizer(model: String)
    /// The module does not verify.
    case invalidModule(String)
    /// An option is out of range.
    case badOption(String)
    /// The memory plan puts a value outside the arena it records (a stale or hand-edited plan).
    case bufferOutsideArena(value: String, offset: Int, width: Int, arena: Int)
    /// The module has no positive `context_length`, so the KV caches cannot be laid out.
    case noContextLength(model: String)
    /// A weight's materialised shape differs from its declaration.
    case weightShape(name: String, expected: [Int], found: [Int])

    public var errorDescription: String? {
        switch self {
        case .noMemoryPlan(let op):
            // The pipeline named here is `loweringPipeline` (passes/Lowering/LoweringPipeline.swift).
            return "\(op) has no arena_offset: the module has no (or a stale) memory plan; run the lowering pipeline "
                + "(fuse-qkv,fuse-gate-up,fold-norms,dce,plan-memory) with plan-memory last"
        case .noTokenizer(let model):
            return "module @\(model) has no BPE tables (vocabulary without tokens and merges); lower a module loaded "
                + "from a checkpoint, or a .pir whose source checkpoint is still there"
        case .bufferOutsideArena(let v, let o, let w, let a):
            return "\(v) is planned at floats [\(o), \(o + w)) of a \(a)-float arena row: the memory plan is stale; re-run plan-memory last"
        case .noContextLength(let model):
            return "module @\(model) has no positive context_length in its metadata; the plan needs it to size the KV caches"
        case .invalidModule(let why): return "the module does not verify:\n\(why)"
        case .badOption(let why): return why
        case .weightShape(let name, let e, let f): return "weight @\(name) materialised as \(f), declared \(e)"
        }
    }
}
