// Greedy generation and per-position logit summaries on top of the interpreter.
import Foundation

/// The top-k logits and log-sum-exp of one position's next-token distribution.
public struct PositionSummary: Sendable, Codable, Equatable {
    public var topIDs: [Int]
    public var topLogits: [Float]
    public var logsumexp: Double

    enum CodingKeys: String, CodingKey {
        case topIDs = "top_ids", topLogits = "top_logits", logsumexp
    }

    /// Summarises one row of logits: the `k` largest (descending, ties by lower id) and log-sum-exp.
    public init(logits row: ArraySlice<Float>, k: Int) {
        var top: [(Int, Float)] = []
        for (i, v) in row.enumerated() {
            if top.count < k || v > top[top.count - 1].1 {
                let at = top.firstIndex { v > $0.1 } ?? top.count
                top.insert((i, v), at: at)
                if top.count > k { top.removeLast() }
            }
        }
        topIDs = top.map(\.0)
        topLogits = top.map(\.1)
        let mx = Double(row.max() ?? 0)
        var s = 0.0
        for i in row.indices { s += Foundation.exp(Double(row[i]) - mx) }
        logsumexp = mx + Foundation.log(s)
    }
}

extension Interpreter {
    /// Greedy decoding: runs the prompt once, then one token at a time with the KV cache, until `maxTokens`
    /// tokens or a stop token (included in the result). `onToken` sees each new id as it is chosen.
    public func generateGreedy(prompt: [Int], maxTokens: Int, stop: Set<Int>, onToken: (Int) -> Void = { _ in }) throws -> [Int] {
        var cache = makeCache()
        var out: [Int] = []
        guard maxTokens > 0 else { return out }
        var logits = try forward(prompt, cache: &cache)
        while true {
            let last = logits.row(logits.rows - 1)
            var best = last.startIndex
            for i in last.indices where last[i] > last[best] { best = i }
            let id = best - last.startIndex
            out.append(id)
            onToken(id)
            if out.count >= maxTokens || stop.contains(id) { return out }
            logits = try forward([id], cache: &cache)
        }
    }
}
