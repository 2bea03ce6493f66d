// `pare run model.pare --prompt TEXT`: generate with the runtime, streaming text to stdout.
import ArgumentParser
import Foundation
import PareRuntime

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate text from a compiled plan with Pare's runtime, streaming to standard output.",
        discussion: """
            The prompt is tokenized with the plan's own (possibly pruned) tokenizer, prefilled in chunks of the \
            plan's max rows with matrix-matrix products, then decoded one token at a time with matrix-vector \
            products and a KV cache. Generation stops after --max-tokens tokens or at an end-of-sequence token. \
            Greedy by default; --temperature T (with --top-p and --seed) samples, and the same seed gives the same \
            text. Timing goes to standard error; with --json one object {"ids", "text", "prompt_tokens", \
            "prefill_seconds", "decode_seconds", "decode_tokens_per_second"} is printed at the end instead of \
            streaming.

            Example:
              pare run qwen-pruned.pare --prompt 'def fib(n):' --max-tokens 64
              pare run qwen-pruned.pare --prompt 'def fib(n):' --temperature 0.8 --top-p 0.95 --seed 7
            """)

    @Argument(help: ArgumentHelp("A plan directory written by `pare compile`.", valueName: "plan"))
    var plan: String

    @OptionGroup var prompt: PromptOptions

    @Option(help: "Maximum number of tokens to generate (1-100000).")
    var maxTokens = 128

    @Option(help: "Sampling temperature; 0 (the default) is greedy.")
    var temperature = 0.0

    @Option(help: "Nucleus sampling: keep the smallest set of tokens whose probability reaches p (0 < p <= 1).")
    var topP = 1.0

    @Option(help: "Seed of the sampler (with --temperature).")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("KV-cache length in positions (default: prompt + max tokens, at most the model's context).",
                               valueName: "n"))
    var context: Int?

    @Flag(help: "Print one JSON object at the end instead of streaming.")
    var json = false

    func validate() throws {
        guard (1...100_000).contains(maxTokens) else { throw ValidationError("--max-tokens must be between 1 and 100000, got \(maxTokens)") }
        guard temperature.isFinite && temperature >= 0 else { throw ValidationError("--temperature must be >= 0, got \(temperature)") }
        guard topP > 0 && topP <= 1 else { throw ValidationError("--top-p must be in (0, 1], got \(topP)") }
        if let context, context < 1 { throw ValidationError("--context must be positive, got \(context)") }
    }

    struct Output: Encodable {
        var ids: [Int]
        var text: String
        var prompt_tokens: Int
        var prefill_seconds: Double
        var decode_seconds: Double
        var decode_tokens_per_second: Double
    }

    func run() throws {
        try reportingErrors {
            let open = try OpenPlan(plan)
            let ids = prompt.ids(open.tokenizer)
            let session = try open.runtime.makeSession(maxContext: context ?? min(ids.count + maxTokens, open.loaded.plan.model.maxContext))
            let mode: SamplingMode = temperature == 0 ? .greedy : .temperature(temperature, topP: topP, seed: seed)
            var streamer = TextStreamer(tokenizer: open.tokenizer)
            var firstAt: Date?
            let start = Date()
            let out = try generate(session, prompt: ids, maxTokens: maxTokens, sampling: mode, stop: open.stop) { id in
                if firstAt == nil { firstAt = Date() }
                guard !json else { return }
                FileHandle.standardOutput.write(Data(streamer.push(id).utf8))
            }
            let end = Date()
            let prefill = (firstAt ?? end).timeIntervalSince(start)
            let decode = end.timeIntervalSince(firstAt ?? end)
            let rate = out.count > 1 ? Double(out.count - 1) / decode : 0
            if json {
                try printJSON(Output(ids: out, text: open.tokenizer.decode(out), prompt_tokens: ids.count, prefill_seconds: prefill,
                                     decode_seconds: decode, decode_tokens_per_second: rate))
            } else {
                FileHandle.standardOutput.write(Data((streamer.finish() + "\n").utf8))
                note(String(format: "pare run: load %.2f s, prompt %d tokens in %.2f s (%.1f tok/s), %d tokens in %.2f s (%.1f tok/s)",
                            open.loadSeconds, ids.count, prefill, Double(ids.count) / max(prefill, 1e-9), out.count, decode, rate))
            }
        }
    }
}
