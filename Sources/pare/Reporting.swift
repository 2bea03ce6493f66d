// Error reporting for every subcommand: a message a user can act on, on stderr, and a distinct exit code.
import ArgumentParser
import Foundation
import PareCheckpoint
import PareFrontend
import PareIR
import PareInterpreter
import ParePasses
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
    } catch let e as VerificationError {
        note(e.localizedDescription)
        throw ExitCode(4)
    } catch let e as CheckpointError {
        note("error: " + (e.errorDescription ?? "\(e)"))
        throw ExitCode(3)
    } catch let e as LiftError {
        note("error: " + (e.errorDescription ?? "\(e)"))
        throw ExitCode(3)
    } catch let e as IRParseError {
        note(e.localizedDescription)
        throw ExitCode(3)
    } catch let e as TokenizerError {
        note("error: " + (e.errorDescription ?? "\(e)"))
        throw ExitCode(3)
    } catch let e as PipelineError {
        note(e.localizedDescription)
        throw ExitCode(64)
    } catch let e as CalibrationError {
        note("error: " + (e.errorDescription ?? "\(e)"))
        throw ExitCode(3)
    } catch let e as PassFailure {
        note("error: " + (e.errorDescription ?? "\(e)"))
        if case PassError.badOption = e.underlying { throw ExitCode(64) }  // an option the module makes impossible
        throw ExitCode(e.isVerificationFailure ? 4 : 1)
    } catch let e as LocalizedError {
        note("error: " + (e.errorDescription ?? "\(e)"))
        throw ExitCode(1)
    } catch {
        note("error: \(error)")
        throw ExitCode(1)
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
