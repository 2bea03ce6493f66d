// `pare dump-ir MODEL`: print a model's IR (weights never printed).
import ArgumentParser
import PareFrontend
import PareIR

struct DumpIR: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump-ir",
        abstract: "Print the IR module of a model (lifting it if it is a checkpoint).",
        discussion: """
            The dump names its source checkpoint (path and sha256), so the .pir file can be given back to \
            any command as MODEL. Parameters print as @symbols with shape, storage type and view chain; \
            weights are never printed. See docs/IR.md for the format.
            """)

    @OptionGroup var model: ModelOptions

    @Option(name: .shortAndLong, help: "Write the IR here (atomically) instead of standard output.")
    var output: String?

    func run() throws {
        try reportingErrors {
            let loaded = try loadModel(model.model)
            try verifyOrThrow(loaded.module)
            let text = printModule(loaded.module)
            if let output { try writeAtomically(text, to: output) } else { print(text, terminator: "") }
        }
    }
}
