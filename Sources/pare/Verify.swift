// `pare verify FILE`: check a module's invariants and report every violation with its location.
import ArgumentParser
import Foundation
import PareFrontend
import PareIR

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the IR invariants of a .pir file (or of a checkpoint's lifted module).",
        discussion: "Prints `file:line:col: error: ...` for each violation and exits with 4 if there is any; the invariants are listed in docs/IR.md.")

    @OptionGroup var model: ModelOptions

    @Flag(help: "Only parse and verify the text; do not open the source checkpoint.")
    var textOnly = false

    func run() throws {
        try reportingErrors {
            let module: Module
            if textOnly || model.model.hasSuffix(".pir") {
                let text = try readIRText(model.model)
                let (parsed, sourceMap) = try parseModuleWithSourceMap(text, file: model.model)
                try verifyOrThrow(parsed, sourceMap: sourceMap)
                module = parsed
            } else {
                module = try loadModel(model.model).module
                try verifyOrThrow(module)
            }
            print("\(model.model): ok (\(module.function.ops.count) ops, \(module.parameters.count) parameters, \(module.blocks.count) blocks)")
        }
    }
}
