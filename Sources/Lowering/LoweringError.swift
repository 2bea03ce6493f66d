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
    /// A weight's materialised shape differs from its declaration.
    case weightShape(name: String, expected: [Int], found: [Int])

    public var errorDescription: String? {
        switch self {
        case .noMemoryPlan(let op):
            return "\(op) has no arena_offset: the module has no (or a stale) memory plan; run the lowering pipeline "
                + "(fuse-qkv,fuse-gate-up,fold-norms,dce,plan-memory) with plan-memory last"
        case .noTokenizer(let model):
            return "module @\(model) has no BPE tables (vocabulary without tokens and merges); lower a module loaded "
                + "from a checkpoint, or a .pir whose source checkpoint is still there"
        case .invalidModule(let why): return "the module does not verify:\n\(why)"
        case .badOption(let why): return why
        case .weightShape(let name, let e, let f): return "weight @\(name) materialised as \(f), declared \(e)"
        }
    }
}
