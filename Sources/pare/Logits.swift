// `pare logits MODEL`: the top-k next-token logits and log-sum-exp at every prompt position.
import ArgumentParser
import PareFrontend
import PareInterpreter

struct Logits: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the reference interpreter over a prompt and print each position's top logits.",
        discussion: "With --json the output has the shape of the cases in shared/reference: {\"ids\", \"positions\": [{\"top_ids\", \"top_logits\", \"logsumexp\"}]}.")

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
            let loaded = try loadModel(model.model)
            let ids = prompt.ids(loaded.tokenizer)
            let logits = try loaded.interpreter().forward(ids)
            let positions = (0..<ids.count).map { PositionSummary(logits: logits.row($0), k: top) }
            if json {
                try printJSON(Output(ids: ids, positions: positions))
                return
            }
            for (i, p) in positions.enumerated() {
                let tokens = zip(p.topIDs, p.topLogits).map { "\($0)(\(loaded.tokenizer.tokenString($0)?.debugDescription ?? "?"))=\($1)" }
                print("[\(i)] id \(ids[i]) logsumexp \(p.logsumexp): " + tokens.joined(separator: " "))
            }
        }
    }
}
