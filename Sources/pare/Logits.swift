// `pare logits MODEL`: the top-k next-token logits and log-sum-exp at every prompt position.
import ArgumentParser
import PareFrontend
import PareInterpreter
import PareRuntime

struct Logits: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a model (interpreter) or a compiled plan (runtime) over a prompt and print each position's top logits.",
        discussion: "MODEL may also be a plan directory written by `pare compile`: the runtime runs it. With --json the output has the shape of the cases in shared/reference: {\"ids\", \"positions\": [{\"top_ids\", \"top_logits\", \"logsumexp\"}]}.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var prompt: PromptOptions

    @Option(help: "How many of the largest logits to print per position (1-1000).")
    var top = 10

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard (1...1000).contains(top) else { throw ValidationError("--top must be between 1 and 1000, got \(top)") }
    }

    struct Output: Encodable { var ids: [Int]; var positions: [PositionSummary] }

    func run() throws {
        try reportingErrors {
            if isPlan(model.model) {
                let open = try OpenPlan(model.model)
                let ids = prompt.ids(open.tokenizer)
                let vocab = open.loaded.plan.model.vocabSize
                let logits = try open.runtime.makeSession(maxContext: max(ids.count, 1)).forward(ids, allLogits: true)
                let positions = (0..<ids.count).map { PositionSummary(logits: logits[($0 * vocab)..<(($0 + 1) * vocab)], k: top) }
                try show(ids, positions) { open.tokenizer.tokenString($0) }
                return
            }
            let loaded = try loadModel(model.model)
            let ids = prompt.ids(loaded.tokenizer)
            let logits = try loaded.interpreter().forward(ids)
            let positions = (0..<ids.count).map { PositionSummary(logits: logits.row($0), k: top) }
            try show(ids, positions) { loaded.tokenizer.tokenString($0) }
        }
    }

    /// Prints the positions as JSON or one line each.
    func show(_ ids: [Int], _ positions: [PositionSummary], _ tokenString: (Int) -> String?) throws {
        if json {
            try printJSON(Output(ids: ids, positions: positions))
            return
        }
        for (i, p) in positions.enumerated() {
            let tokens = zip(p.topIDs, p.topLogits).map { "\($0)(\(tokenString($0)?.debugDescription ?? "?"))=\($1)" }
            print("[\(i)] id \(ids[i]) logsumexp \(p.logsumexp): " + tokens.joined(separator: " "))
        }
    }
}
