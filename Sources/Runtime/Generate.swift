// Generation: prefill the prompt, then decode one token at a time, streaming each id as it is chosen.

/// Prefills `prompt` (after whatever the session already holds), then decodes one token at a time until
/// `maxTokens` tokens, a token in `stop` (included in the result), or a full KV cache (the last token is
/// returned but not run). Calls `onToken` with each new id as it is produced. Same seed, same tokens.
/// The decode loop allocates nothing per token.
public func generate(_ session: RuntimeSession, prompt: [Int], maxTokens: Int, sampling: SamplingMode,
                     stop: Set<Int>, onToken: (Int) -> Void) throws -> [Int] {
    try generateUntil(session, prompt: prompt, maxTokens: maxTokens, sampling: sampling, stop: stop) { onToken($0); return false }
}

/// `generate` that also ends after a token for which `until` returns true (e.g. when the text so far has reached
/// a stop sequence); that token is the last one returned.
public func generateUntil(_ session: RuntimeSession, prompt: [Int], maxTokens: Int, sampling: SamplingMode,
                     stop: Set<Int>, until: (Int) -> Bool) throws -> [Int] {
    let vocab = session.runtime.vocabSize
    var sampler = try TokenSampler(sampling, vocabSize: vocab)
    guard maxTokens > 0 else { return [] }
    var logits = try session.forwardLast(prompt)
    var out: [Int] = []
    out.reserveCapacity(min(maxTokens, session.remaining + 1))
    while true {
        let id = sampler.sample(UnsafeBufferPointer(start: logits, count: vocab))
        out.append(id)
        if until(id) || out.count >= maxTokens || stop.contains(id) || session.remaining == 0 { return out }
        logits = try session.decode(id)
    }
}
