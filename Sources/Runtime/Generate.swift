// Generation: prefill the prompt, then decode one token at a time, streaming each id as it is chosen.

/// Prefills `prompt` (after whatever the session already holds), then decodes one token at a time until
/// `maxTokens` tokens, a token in `stop` (included in the result), or a full KV cache (the last token is
/// returned but not run). Calls `onToken` with each new id as it is produced. Same seed, same tokens.
/// The decode loop allocates nothing per token.
public func generate(_ session: RuntimeSession, prompt: [Int], maxTokens: Int, sampling: SamplingMode,
                     stop: Set<Int>, onToken: (Int) -> Void) throws -> [Int] {
    let vocab = session.runtime.vocabSize
    var sampler = try TokenSampler(sampling, vocabSize: vocab)
    guard maxTokens > 0 else { return [] }
    var logits = try session.forwardLast(prompt)
    var out: [Int] = []
    out.reserveCapacity(min(maxTokens, session.remaining + 1))
    while true {
        let id = sampler.sample(UnsafeBufferPointer(start: logits, count: vocab))
        out.append(id)
        onToken(id)
        if out.count >= maxTokens || stop.contains(id) || session.remaining == 0 { return out }
        logits = try session.decode(id)
    }
}
