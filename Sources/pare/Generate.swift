// `pare generate MODEL --prompt T`: greedy continuation with the reference interpreter, or the runtime for a plan.
import ArgumentParser
import Foundation
import PareFrontend
import PareInterpreter
import PareRuntime

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Greedy-decode a continuation of a prompt with the reference interpreter (or the runtime, for a plan).",
        discussion: "MODEL may also be a plan directory written by `pare compile`: the runtime runs it (`pare run` adds sampling and timing). Stops after --max-tokens tokens or at the end-of-sequence token (included in the output). Text streams to stdout as it is generated; with --json one object {\"ids\", \"text\"} is printed at the end.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var prompt: PromptOptions

    @Option(help: "Maximum number of tokens to generate (1-100000).")
    var maxTokens = 64

    @Flag(help: "Print {\"ids\": [...generated ids], \"text\": \"...\"}.")
    var json = false

    func validate() throws {
        guard (1...100_000).contains(maxTokens) else { throw ValidationError("--max-tokens must be between 1 and 100000, got \(maxTokens)") }
    }

    struct Output: Encodable { var ids: [Int]; var text: String }

    func run() throws {
        try reportingErrors {
            if isPlan(model.model) {
                let open = try OpenPlan(model.model)
                let ids = prompt.ids(open.tokenizer)
                let session = try open.runtime.makeSession(maxContext: min(ids.count + maxTokens, open.loaded.plan.model.maxContext))
                var streamer = TextStreamer(tokenizer: open.tokenizer)
                let out = try PareRuntime.generate(session, prompt: ids, maxTokens: maxTokens, sampling: .greedy, stop: open.stop) { id in
                    if !json { FileHandle.standardOutput.write(Data(streamer.push(id).utf8)) }
                }
                if json { try printJSON(Output(ids: out, text: open.tokenizer.decode(out))) } else { print(streamer.finish()) }
                return
            }
            let loaded = try loadModel(model.model)
            let tok = loaded.tokenizer
            let interp = try loaded.interpreter()
            let stop = Set(["eos", "eot"].compactMap { loaded.module.vocabulary.special($0) })
            var shown = ""
            var generated: [Int] = []
            let ids = try interp.generateGreedy(prompt: prompt.ids(tok), maxTokens: maxTokens, stop: stop) { id in
                guard !json else { return }
                // Stream: print whatever new text decodes completely (a multi-byte character may span tokens).
                generated.append(id)
                let text = tok.decode(generated)
                if text.hasPrefix(shown), !text.hasSuffix("\u{FFFD}") {
                    FileHandle.standardOutput.write(Data(text.dropFirst(shown.count).utf8))
                    shown = text
                }
            }
            if json { try printJSON(Output(ids: ids, text: tok.decode(ids))) } else { print("") }
        }
    }
}
