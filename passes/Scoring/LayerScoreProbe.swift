// The activation cache behind layer scoring: one forward of a module over the calibration set captures the residual
// stream at every block boundary, so bypassing a candidate block costs only the blocks after it.
import PareIR
import PareInterpreter

/// A module's activations on calibration sequences, captured once, and the logits of the module with any one
/// block bypassed, computed from them.
///
/// Bypassing block b (every use of its output reads its input instead) leaves the ops before b unchanged and the
/// ops after b reading b's input where they read b's output. So the bypassed module's logits are the original ops
/// after b, run from b's end, seeded with b's captured input in place of its output (and the other values alive
/// across that point, normally none). Attention ops before the start point do not run; KV slots are per op, so the
/// ones that run see exactly the keys and values they would in the rewritten module.
public final class LayerProbe {
    /// The module probed.
    public let module: Module
    /// Its blocks in op order; candidates are positions into this array.
    public let blocks: [BlockAnatomy]
    /// The calibration sequences, in `module`'s token ids.
    public let sequences: [[Int]]
    /// The interpreter over `module`.
    public let interpreter: Interpreter
    /// Per sequence, the captured values: every block's input and output, and every value alive at a block's end.
    private let captured: [[Value: Tensor]]
    /// Per block position, the values defined before the block's end that ops after it read (the block's output,
    /// in llama/qwen2 modules nothing else). Seeded when the run starts after that block.
    private let liveOut: [[Value]]

    /// The module's logits per sequence (`[length, vocab]` each) when asked for with `keepLogits`; else empty.
    public private(set) var logits: [Tensor] = []

    /// Runs `module` once over each sequence, capturing every block's input and output (and anything else alive at
    /// a block's end). With `keepLogits`, keeps the module's logits too (see `takeLogits`).
    public init(_ module: Module, store: WeightStore, sequences: [[Int]], keepLogits: Bool = false) throws {
        let blocks = try module.blockAnatomy()
        let interpreter = try Interpreter(module: module, store: store)
        let ops = module.function.ops
        var defined: [Value: Int] = [:]
        var lastUse: [Value: Int] = [:]
        for (i, op) in ops.enumerated() {
            defined[op.result] = i
            for v in op.valueOperands { lastUse[v] = i }
        }
        lastUse[module.function.result] = ops.count
        let liveOut: [[Value]] = blocks.map { b in
            let end = b.ops.upperBound
            return lastUse.filter { v, last in last >= end && (defined[v].map { $0 < end } ?? false) }.map(\.key).sorted()
        }
        var wanted = Set(liveOut.joined())
        for b in blocks { wanted.insert(b.input); wanted.insert(b.output) }

        var captured: [[Value: Tensor]] = []
        var kept: [Tensor] = []
        for seq in sequences {
            var cache = interpreter.makeCache()
            let run = try interpreter.run(seq, capture: wanted, cache: &cache)
            captured.append(run.captured)
            if keepLogits { kept.append(run.logits) }
        }
        self.module = module
        self.blocks = blocks
        self.sequences = sequences
        self.interpreter = interpreter
        self.captured = captured
        self.liveOut = liveOut
        self.logits = kept
    }

    /// Hands over the kept logits (the probe no longer holds them, so the caller may transform them in place).
    public func takeLogits() -> [Tensor] {
        defer { logits = [] }
        return logits
    }

    /// The residual stream entering the block at `position`, on sequence `s`: `[length, hidden]`.
    public func input(_ position: Int, sequence s: Int) throws -> Tensor {
        try value(blocks[position].input, sequence: s)
    }

    /// The residual stream leaving the block at `position`, on sequence `s`: `[length, hidden]`.
    public func output(_ position: Int, sequence s: Int) throws -> Tensor {
        try value(blocks[position].output, sequence: s)
    }

    /// The logits `[length, vocab]` on sequence `s` of `module` with the block at `position` bypassed, computed by
    /// running only the ops after that block.
    public func bypassLogits(_ position: Int, sequence s: Int) throws -> Tensor {
        let b = blocks[position]
        var seed: [Value: Tensor] = [:]
        for v in liveOut[position] { seed[v] = try value(v == b.output ? b.input : v, sequence: s) }
        var cache = interpreter.makeCache()
        return try interpreter.run(sequences[s], from: b.ops.upperBound, seed: seed, cache: &cache).logits
    }

    private func value(_ v: Value, sequence s: Int) throws -> Tensor {
        guard s >= 0 && s < captured.count, let t = captured[s][v] else {
            throw InterpreterError.badOp("layer probe: \(v) was not captured for sequence \(s)")
        }
        return t
    }
}
