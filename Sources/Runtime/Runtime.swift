// The plan runtime: checks an execution plan against its weights once, owns the arena, and makes sessions.
import CBLAS
import Foundation
import ParePlan

/// Executes an `ExecutionPlan` over its weight blob. Checking happens once, here; running does no lookups.
///
/// Sessions share the runtime's arena and scratch, so sessions of one runtime must not run concurrently.
public final class PlanRuntime {
    /// The plan this runtime executes.
    public let plan: ExecutionPlan
    let program: Program
    /// `[maxRows, arena.rowFloats]`: every activation buffer lives here.
    let arena: AlignedFloats
    let ropeTables: RopeTables
    /// `[maxRows, widest 2 * ffn]`: the fused gate;up product before SwiGLU.
    let swigluScratch: AlignedFloats
    /// Per `ActivationKind`: `[maxRows, program.activationBytes[kind]]` bytes of quantised activations.
    let activationBuffers: [AlignedFloats]
    let activationScratch: [UnsafeMutableRawPointer]
    /// Rows from which block-weight products use float activations (dequantised tiles and sgemm): 2 by default,
    /// 1 with `exactProducts` (decode too: slower, but every logit as the interpreter computes it).
    let dequantizeFrom: Int
    /// `[maxRows, widest kernel-path input]` floats: prefill's scaled activations for sgemm.
    let prefillScratch: AlignedFloats
    /// The blob the program's weight pointers point into.
    let weights: UnsafeRawBufferPointer
    /// Owns the blob memory (e.g. an mmap) for the runtime's lifetime.
    let keepAlive: AnyObject?

    /// Checks every step against the tensors' shapes and the buffers (typed `RuntimeError` on mismatch) and
    /// allocates the arena (`[plan.model.maxRows, plan.arena.rowFloats]` floats, 64-byte aligned) once.
    /// - Parameters:
    ///   - weights: the blob; tensor i starts at `weights.baseAddress + plan.tensors[i].offset`, row-major in its dtype.
    ///   - keepAlive: an object that owns the blob memory, retained for the runtime's lifetime.
    ///   - exactProducts: block-weight products always with float activations, decode included (by default a single
    ///     row quantises its activation to 8 bits and uses integer dot products, as llama.cpp does).
    public init(plan: ExecutionPlan, weights: UnsafeRawBufferPointer, keepAlive: AnyObject? = nil, exactProducts: Bool = false) throws {
        dequantizeFrom = exactProducts ? 1 : MatrixKernels.prefillRows
        try PlanTables.checkModel(plan)
        try PlanTables.checkTensors(plan, weights: weights)
        try PlanTables.checkBuffers(plan)
        try PlanTables.checkKVLayers(plan)
        try PlanTables.checkOutput(plan)
        let maxRows = plan.model.maxRows
        let arena = try AlignedFloats(count: maxRows * plan.arena.rowFloats, what: "activation arena", zeroed: true)
        var compiler = StepCompiler(plan: plan, arena: arena.pointer, weights: weights.baseAddress)
        let program = try compiler.compile()
        self.plan = plan
        self.program = program
        self.arena = arena
        ropeTables = try RopeTables(configs: program.ropeConfigs, maxRows: maxRows)
        swigluScratch = try AlignedFloats(count: maxRows * program.swigluWidth, what: "SwiGLU scratch")
        activationBuffers = try program.activationBytes.map {
            try AlignedFloats(count: maxRows * (($0 + 3) / 4), what: "quantised activations")
        }
        activationScratch = activationBuffers.map { UnsafeMutableRawPointer($0.pointer) }
        prefillScratch = try AlignedFloats(count: maxRows * program.kernelInputWidth, what: "prefill activations")
        // A plan whose matrices all run on the C kernels (which use every core) leaves BLAS only attention's small
        // products: BLAS threads would then compete with the kernels' threads for the same cores.
        if !program.usesBLASMatrices && ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] == nil {
            openblas_set_num_threads(1)
        }
        self.weights = weights
        self.keepAlive = keepAlive
    }

    /// The number of token ids (the width of a logits row).
    public var vocabSize: Int { plan.model.vocabSize }

    /// A session with empty KV caches for up to `maxContext` positions (default and maximum:
    /// `plan.model.maxContext`). The caches are allocated here, once; untouched positions cost no memory.
    public func makeSession(maxContext: Int? = nil) throws -> RuntimeSession {
        let context = maxContext ?? plan.model.maxContext
        guard context >= 1, context <= plan.model.maxContext else {
            throw RuntimeError.badMaxContext(requested: context, planMax: plan.model.maxContext)
        }
        return try RuntimeSession(runtime: self, maxContext: context)
    }
}
