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

/// Writes `text` to `path` atomically: a temporary file beside it, then a rename.
func writeAtomically(_ text: String, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
    do {
        try Data(text.utf8).write(to: tmp)
        if FileManager.default.fileExists(atPath: path) {
            _ = try FileManager.default.replaceItemAt(url, withItemAt: tmp)
        } else {
            try FileManager.default.moveItem(at: tmp, to: url)
        }
    } catch {
        try? FileManager.default.removeItem(at: tmp)
        throw CheckpointError.cannotOpen(path: path, reason: "cannot write: \(error.localizedDescription)")
    }
}

/// Encodes a value as one line of JSON on stdout.
func printJSON<T: Encodable>(_ value: T) throws {
    let enc = JSONEncoder()
    enc.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
    print(String(decoding: try enc.encode(value), as: UTF8.self))
}
