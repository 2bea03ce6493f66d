// What an evaluation needs of a model: text in, a completion out that ends at a stop sequence; and the plan-backed
// implementation, run by Pare's runtime.
import Foundation
import PareRuntime
import PareTokenizer

/// A model's answer to one input.
public struct Completion: Sendable, Equatable {
    /// The generated text up to (not including) the first stop sequence or end token.
    public var text: String
    /// Tokens generated, including the one that completed a stop sequence or an end token.
    public var tokens: Int
    public var promptTokens: Int
    /// stop, eos, length or context (see `ProblemRecord.stop_reason`).
    public var stopReason: String
    public var seconds: Double

    /// A completion (also for fake models in tests).
    public init(text: String, tokens: Int, promptTokens: Int, stopReason: String, seconds: Double) {
        self.text = text
        self.tokens = tokens
        self.promptTokens = promptTokens
        self.stopReason = stopReason
        self.seconds = seconds
    }
}

/// A model an evaluation can query: greedy completion of text, ending at a stop sequence, an end-of-sequence or
/// end-of-turn token, `maxTokens`, or a full context.
public protocol CompletionModel: AnyObject {
    /// The model's chat template, if it has one (for the chat protocol).
    var chatTemplate: String? { get }
    /// Completes `input` greedily.
    func complete(_ input: String, maxTokens: Int, stops: [String]) throws -> Completion
}

/// A compiled plan, run by the runtime: one session whose KV cache is reused for every problem.
public final class PlanCompletionModel: CompletionModel {
    public let chatTemplate: String?
    let tokenizer: BPETokenizer
    let endIDs: Set<Int>
    let session: RuntimeSession

    /// A model over `runtime`; `endIDs` end generation (eos, eot, and any other control token: its text never goes
    /// into a program); the KV cache holds `context` positions.
    public init(runtime: PlanRuntime, tokenizer: BPETokenizer, endIDs: Set<Int>, chatTemplate: String?, context: Int) throws {
        self.tokenizer = tokenizer
        self.endIDs = endIDs
        self.chatTemplate = chatTemplate
        session = try runtime.makeSession(maxContext: min(context, runtime.plan.model.maxContext))
    }

    public func complete(_ input: String, maxTokens: Int, stops: [String]) throws -> Completion {
        let start = Date()
        session.reset()
        let ids = tokenizer.encode(input)
        guard !ids.isEmpty, ids.count < session.maxContext else {
            return Completion(text: "", tokens: 0, promptTokens: ids.count, stopReason: ids.isEmpty ? "length" : "context", seconds: 0)
        }
        var streamer = TextStreamer(tokenizer: tokenizer)
        var matcher = StopMatcher(stops)
        let out = try generateUntil(session, prompt: ids, maxTokens: maxTokens, sampling: .greedy, stop: endIDs) { id in
            endIDs.contains(id) ? false : matcher.push(streamer.push(id))
        }
        if matcher.stopIndex == nil { matcher.push(streamer.finish()) }
        let reason: String
        if matcher.stopIndex != nil { reason = "stop" }
        else if let last = out.last, endIDs.contains(last) { reason = "eos" }
        else if out.count >= maxTokens { reason = "length" }
        else { reason = "context" }
        return Completion(text: matcher.completion, tokens: out.count, promptTokens: ids.count, stopReason: reason,
                          seconds: Date().timeIntervalSince(start))
    }
}
