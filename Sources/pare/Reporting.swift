// Error reporting for every subcommand: a message a user can act on, on stderr, and a distinct exit code.
import ArgumentParser
import Foundation
import PareCheckpoint
import PareFrontend
import PareIR
import PareEval
import PareInterpreter
import ParePasses
import ParePlan
import PareTokenizer

/// Writes a line to standard error.
func note(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}

/// Runs a subcommand body; typed errors become `error: ...` on stderr and an exit code:
/// 3 for a bad input file (checkpoint, tokenizer, IR text, calibration text), 4 for IR that fails verification (also
/// after a pass), 64 for a bad pipeline string or pass option, 1 otherwise (a pass that failed).
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as ExitCode {
        throw e
    } catch {
        let (message, code) = report(error)
        note(message)
        throw ExitCode(code)
    }
}

/// The stderr message and exit code for an error. Errors whose text already starts with a location
/// (`file:line:col: error:`, `pipeline:1:5: error:`) or a heading are printed as they are.
func report(_ error: Error) -> (message: String, code: Int32) {
    func plain(_ e: LocalizedError) -> String { "error: " + (e.errorDescription ?? "\(e)") }
    switch error {
    case let e as VerificationError: return (e.localizedDescription, 4)
    case let e as IRParseError: return (e.localizedDescription, 3)
    case let e as PipelineError: return (e.localizedDescription, 64)
    case let e as CheckpointError: return (plain(e), 3)
    case let e as LiftError: return (plain(e), 3)
    case let e as TokenizerError: return (plain(e), 3)
    case let e as CalibrationError: return (plain(e), 3)
    case let e as PlanError: return (plain(e), 3)
    case let e as EvalError:
        switch e {
        case .badData, .badResults, .resultsMismatch: return (plain(e), 3)
        case .sandbox, .chatTemplate, .nothingToCompare: return (plain(e), 1)
        }
    case let e as PassFailure:
        if case PassError.badOption = e.underlying { return (plain(e), 64) }  // an option the module makes impossible
        return (plain(e), e.isVerificationFailure ? 4 : 1)
    case let e as LocalizedError: return (plain(e), 1)
    default: return ("error: \(error)", 1)
    }
}

/// Writes IR text to `path` atomically; a failure is a bad-output-file error (exit 3).
func writeAtomically(_ text: String, to path: String) throws {
    do { try writeTextAtomically(text, to: path) } catch let e as IRWriteError {
        throw CheckpointError.cannotOpen(path: path, reason: "cannot write: \(e.reason)")
    }
}

/// Encodes a value as one line of JSON on stdout.
func printJSON<T: Encodable>(_ value: T) throws {
    let enc = JSONEncoder()
    enc.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
    print(String(decoding: try enc.encode(value), as: UTF8.self))
}
