// A runtime session: the KV caches of one sequence, and forward over tokens that follow the cached positions.
import ParePlan

/// One sequence's state: a KV cache per attention slot, `[maxContext, kvHeads * headDim]` keys and values each.
public final class RuntimeSession {
    /// The runtime whose plan this session runs.
    public let runtime: PlanRuntime
    /// Positions the KV caches hold at most.
    public let maxContext: Int
    /// Positions in the KV cache.
    public internal(set) var length = 0
    /// Per slot: keys and values. Retained here; `memories` points into them.
    private let caches: [AlignedFloats]
    /// `[maxRows, maxContext]` attention scores.
    private let scores: AlignedFloats
    /// Per slot: the pointers the attention kernel uses.
    let memories: [AttentionMemory]

    init(runtime: PlanRuntime, maxContext: Int) throws {
        self.runtime = runtime
        self.maxContext = maxContext
        let scores = try AlignedFloats(count: runtime.plan.model.maxRows * maxContext, what: "attention scores")
        var caches: [AlignedFloats] = []
        var memories: [AttentionMemory] = []
        for kv in runtime.plan.kvLayers {
            let keys = try AlignedFloats(count: maxContext * kv.width, what: "KV cache (slot \(kv.slot) keys)")
            let values = try AlignedFloats(count: maxContext * kv.width, what: "KV cache (slot \(kv.slot) values)")
            caches += [keys, values]
            memories.append(AttentionMemory(keys: keys.pointer, values: values.pointer, scores: scores.pointer))
        }
        self.scores = scores
        self.caches = caches
        self.memories = memories
    }

    /// Positions still free in the KV cache.
    public var remaining: Int { maxContext - length }

    /// Forgets every cached position (the caches are reused, not freed).
    public func reset() { length = 0 }

    /// Runs tokens that follow the cached positions, in chunks of at most `plan.model.maxRows` rows.
    /// Returns logits `[tokens.count, vocab]` when `allLogits`, else only the last row `[vocab]`.
    /// Throws (and leaves the session unchanged) for no tokens, an id outside the vocabulary, or more
    /// positions than `maxContext`.
    public func forward(_ tokens: [Int], allLogits: Bool = false) throws -> [Float] {
        try checkInput(tokens)
        let vocab = runtime.vocabSize, maxRows = runtime.plan.model.maxRows
        var logits = [Float](repeating: 0, count: allLogits ? tokens.count * vocab : vocab)
        tokens.withUnsafeBufferPointer { tp in
            logits.withUnsafeMutableBufferPointer { lp in
                var start = 0
                while start < tp.count {
                    let m = min(maxRows, tp.count - start)
                    let last = start + m == tp.count
                    run(tp.baseAddress! + start, count: m, rows: allLogits ? .all : last ? .last : .none)
                    if allLogits {
                        let out = outputRows
                        for r in 0..<m { (lp.baseAddress! + (start + r) * vocab).update(from: out.row(r), count: vocab) }
                    } else if last {
                        lp.baseAddress!.update(from: outputRows.row(m - 1), count: vocab)
                    }
                    start += m
                }
            }
        }
        return logits
    }

    /// Runs `tokens` and returns the last position's logits `[vocab]`, in the arena: valid until the next run.
    func forwardLast(_ tokens: [Int]) throws -> UnsafePointer<Float> {
        try checkInput(tokens)
        let maxRows = runtime.plan.model.maxRows
        var m = 0
        tokens.withUnsafeBufferPointer { tp in
            var start = 0
            while start < tp.count {
                m = min(maxRows, tp.count - start)
                run(tp.baseAddress! + start, count: m, rows: start + m == tp.count ? .last : .none)
                start += m
            }
        }
        return UnsafePointer(outputRows.row(m - 1))
    }

    /// Runs one token (decode) and returns its logits `[vocab]`, in the arena: valid until the next run.
    /// Allocates nothing.
    func decode(_ token: Int) throws -> UnsafePointer<Float> {
        guard length < maxContext else { throw RuntimeError.contextOverflow(length: length, adding: 1, maxContext: maxContext) }
        guard token >= 0, token < runtime.vocabSize else { throw RuntimeError.tokenOutOfRange(token: token, index: 0, vocabSize: runtime.vocabSize) }
        withUnsafePointer(to: token) { run($0, count: 1, rows: .last) }
        return UnsafePointer(outputRows.row(0))
    }

    /// The logits buffer's rows.
    private var outputRows: Rows {
        let b = runtime.plan.buffers[runtime.plan.output]
        return Rows(base: runtime.arena.pointer + b.offset * runtime.plan.model.maxRows, stride: b.width)
    }

    private func checkInput(_ tokens: [Int]) throws {
        guard !tokens.isEmpty else { throw RuntimeError.emptyInput }
        guard tokens.count <= maxContext - length else {
            throw RuntimeError.contextOverflow(length: length, adding: tokens.count, maxContext: maxContext)
        }
        let vocab = runtime.vocabSize
        for (i, t) in tokens.enumerated() where t < 0 || t >= vocab {
            throw RuntimeError.tokenOutOfRange(token: t, index: i, vocabSize: vocab)
        }
    }
}
