// `pare tokenize MODEL --text T`: token ids of a text under the model's tokenizer.
import ArgumentParser
import PareFrontend

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tokenize text with a model's byte-level BPE tokenizer.",
        discussion: "Special tokens written in the text (e.g. <|im_start|>) are matched as such. No BOS is added.")

    @OptionGroup var model: ModelOptions

    @Option(help: "The text to tokenize.")
    var text: String

    @Flag(help: "Print {\"ids\": [...], \"decoded\": \"...\"} (the ids decoded back).")
    var json = false

    struct Output: Encodable { var ids: [Int]; var decoded: String }

    func run() throws {
        try reportingErrors {
            let tok = try loadTokenizer(model.model)
            let ids = tok.encode(text)
            if json {
                try printJSON(Output(ids: ids, decoded: tok.decode(ids)))
            } else {
                for id in ids { print(id, (tok.tokenString(id) ?? "?").debugDescription) }
            }
        }
    }
}
