// Option groups shared by the subcommands.
import ArgumentParser
import PareFrontend
import PareTokenizer

/// The MODEL argument every command that reads a model takes.
struct ModelOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("A GGUF file, a Hugging Face directory, or a .pir file (logits, generate and bench also take a plan directory from `pare compile`).", valueName: "model"))
    var model: String
}

/// A prompt given as text or as token ids.
struct PromptOptions: ParsableArguments {
    @Option(help: "Prompt text (tokenized with the model's tokenizer, no BOS added).")
    var prompt: String?

    @Option(help: ArgumentHelp("Prompt as comma-separated token ids, e.g. 1,2,3.", valueName: "ids"))
    var tokens: String?

    func validate() throws {
        guard (prompt == nil) != (tokens == nil) else { throw ValidationError("give exactly one of --prompt and --tokens") }
        if let tokens {
            guard !tokens.isEmpty, tokens.split(separator: ",", omittingEmptySubsequences: false).allSatisfy({ Int($0.trimmingCharacters(in: .whitespaces)) != nil }) else {
                throw ValidationError("--tokens must be comma-separated integers, e.g. 1,2,3")
            }
        }
    }

    /// The prompt's token ids.
    func ids(_ tokenizer: BPETokenizer) -> [Int] {
        if let tokens { return tokens.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
        return tokenizer.encode(prompt ?? "")
    }
}
