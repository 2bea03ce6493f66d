// Errors of `pare eval`: bad data, results files that do not match the run, a sandbox that cannot start.
import Foundation

/// What can go wrong in an evaluation, with a message a user can act on.
public enum EvalError: Error, LocalizedError, Equatable {
    /// The problem file is missing or malformed.
    case badData(path: String, detail: String)
    /// A results file exists but was written for another model, protocol or setting.
    case resultsMismatch(path: String, field: String, file: String, run: String)
    /// A results file is not Pare's JSON Lines.
    case badResults(path: String, line: Int, detail: String)
    /// The interpreter that runs programs cannot be found or started.
    case sandbox(String)
    /// A chat protocol for a model whose chat template Pare cannot render.
    case chatTemplate(String)
    /// The two results files of a comparison share no problem.
    case nothingToCompare(String)

    public var errorDescription: String? {
        switch self {
        case .badData(let path, let detail): return "HumanEval data \(path): \(detail)"
        case .resultsMismatch(let path, let field, let file, let run):
            let rescore = field == "harness version" ? " (or --rescore to re-run its recorded programs under this harness)" : ""
            return "results file \(path) was written with \(field) \(file), this run has \(run): give another --results folder, or --restart to discard it" + rescore
        case .badResults(let path, let line, let detail): return "\(path):\(line): not a results line of `pare eval`: \(detail)"
        case .sandbox(let s): return "cannot run generated programs: \(s)"
        case .chatTemplate(let s): return "chat protocol: \(s)"
        case .nothingToCompare(let s): return "nothing to compare: \(s)"
        }
    }
}
