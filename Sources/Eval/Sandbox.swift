// Running a generated program: `python3` in a fresh temporary directory, limits on wall time, address space, CPU,
// file size and descriptors, an environment of its own (nothing of the caller's: no tokens, no keys), and an
// outcome classified from the exit status and the last line of standard error.
import CSandbox
import Foundation

/// Limits of one program run.
public struct SandboxLimits: Sendable, Equatable {
    /// Wall-clock seconds before the program's process group is killed.
    public var wallSeconds: Double
    /// Address space in bytes (RLIMIT_AS); a program that wants more gets MemoryError.
    public var addressSpaceBytes: Int64
    /// Largest file the program may write.
    public var fileBytes: Int64 = 16 << 20
    /// Open descriptors.
    public var openFiles: Int64 = 64

    /// Limits with a wall-time and memory budget; CPU time is capped at the wall time plus one second.
    public init(wallSeconds: Double, addressSpaceBytes: Int64) {
        self.wallSeconds = wallSeconds
        self.addressSpaceBytes = addressSpaceBytes
    }
}

/// Why a program did not pass.
public enum FailureKind: String, Codable, Sendable, CaseIterable {
    /// A test's assert failed.
    case assertion
    /// The program does not parse (SyntaxError, IndentationError).
    case syntax
    /// Another uncaught exception (NameError, TypeError, ...).
    case exception
    /// The wall-clock or CPU limit ended it.
    case timeout
    /// It ran out of its address-space budget (MemoryError).
    case memory
    /// A signal ended it (segmentation fault, abort, ...).
    case crash
    /// It exited with status 0 before the tests finished (`sys.exit`, `os._exit`, `unittest.main()` in the answer).
    case earlyExit = "early_exit"
}

/// How one program run ended.
public struct ProgramOutcome: Sendable, Equatable {
    /// Exit status 0 within the limits.
    public var passed: Bool
    /// Why it failed; nil when it passed.
    public var failure: FailureKind?
    /// The last line of standard error (an exception's type and message), at most 300 characters.
    public var detail: String
    /// Wall seconds of the run.
    public var seconds: Double
}

/// Runs Python programs under limits. One instance finds `python3` once.
public struct PythonSandbox: Sendable {
    /// The interpreter's absolute path.
    public let python: String
    /// The limits of every run.
    public let limits: SandboxLimits

    /// Finds `python3` on the caller's PATH (the program itself gets a fixed PATH). Throws `EvalError.sandbox`.
    public init(limits: SandboxLimits, python: String? = nil) throws {
        self.limits = limits
        if let python {
            guard FileManager.default.isExecutableFile(atPath: python) else { throw EvalError.sandbox("\(python) is not an executable") }
            self.python = python
            return
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        guard let found = path.split(separator: ":").map({ "\($0)/python3" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw EvalError.sandbox("python3 is not on PATH (apt-get install python3)")
        }
        self.python = found
    }

    /// Writes `program` to `program.py` in a new temporary directory, runs it with `python3 -I` (isolated: no user
    /// site-packages, no PYTHON* variables), and removes the directory. The environment is PATH, HOME (the temporary
    /// directory), LANG and TMPDIR only. With `marker`, a run passes only if it exits 0 AND its standard output ends
    /// with that line (the program prints it after the tests): an exit before the tests is not a pass.
    /// Resource limits, not a security boundary: there is no network or filesystem isolation.
    public func run(_ program: String, marker: String? = nil) throws -> ProgramOutcome {
        let base = FileManager.default.temporaryDirectory.path
        var template = Array("\(base)/pare-eval-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw EvalError.sandbox("cannot make a temporary directory in \(base): \(String(cString: strerror(errno)))") }
        let dir = String(cString: made)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/program.py"
        do { try Data(program.utf8).write(to: URL(fileURLWithPath: file)) } catch {
            throw EvalError.sandbox("cannot write \(file): \(error.localizedDescription)")
        }
        let argv = [python, "-I", "-B", "program.py"]
        let env = ["PATH=/usr/local/bin:/usr/bin:/bin", "HOME=\(dir)", "TMPDIR=\(dir)", "LANG=C.UTF-8", "PYTHONHASHSEED=0"]
        var c = pare_sandbox_limits(wall_seconds: limits.wallSeconds, address_space_bytes: limits.addressSpaceBytes,
                                    cpu_seconds: Int64(limits.wallSeconds.rounded(.up)) + 1, file_bytes: limits.fileBytes,
                                    open_files: limits.openFiles)
        var result = pare_sandbox_result()
        let err = withCStrings(argv) { a in
            withCStrings(env) { e in
                pare_sandbox_run(a, e, dir, dir + "/stdout.txt", dir + "/stderr.txt", &c, &result)
            }
        }
        guard err == 0 else { throw EvalError.sandbox("cannot start \(python): \(String(cString: strerror(err)))") }
        let stderr = tail(of: dir + "/stderr.txt")
        var outcome = Self.classify(result, stderr: stderr)
        if outcome.passed, let marker, tail(of: dir + "/stdout.txt").split(whereSeparator: \.isNewline).last.map(String.init) != marker {
            outcome = ProgramOutcome(passed: false, failure: .earlyExit, detail: "exited with status 0 before the tests finished",
                                     seconds: outcome.seconds)
        }
        return outcome
    }

    /// The outcome of a run from its status and standard error.
    static func classify(_ r: pare_sandbox_result, stderr: String) -> ProgramOutcome {
        let last = stderr.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
        let detail = String(last.prefix(300))
        func outcome(_ f: FailureKind?, _ d: String = detail) -> ProgramOutcome {
            ProgramOutcome(passed: f == nil, failure: f, detail: d, seconds: r.seconds)
        }
        if r.timed_out != 0 { return outcome(.timeout, "killed after the wall-time limit") }
        if r.signal == SIGXCPU { return outcome(.timeout, "killed at the CPU-time limit") }
        if r.signal != 0 { return outcome(.crash, "ended by signal \(r.signal)" + (detail.isEmpty ? "" : ": " + detail)) }
        if r.exit_code == 0 { return outcome(nil, "") }
        let name = last.split(separator: ":", maxSplits: 1).first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
        switch name.split(separator: ".").last.map(String.init) ?? name {
        case "AssertionError": return outcome(.assertion)
        case "SyntaxError", "IndentationError", "TabError": return outcome(.syntax)
        case "MemoryError": return outcome(.memory)
        case "TimeoutError": return outcome(.timeout)
        default: return outcome(.exception, detail.isEmpty ? "exit status \(r.exit_code)" : detail)
        }
    }

    /// The last 4 KB of a file as text.
    private func tail(of path: String) -> String {
        guard let h = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? h.close() }
        let size = (try? h.seekToEnd()) ?? 0
        try? h.seek(toOffset: size > 4096 ? size - 4096 : 0)
        return String(decoding: (try? h.readToEnd()) ?? Data(), as: UTF8.self)
    }
}

/// Calls `body` with a NULL-terminated C array of the strings.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let array: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) } + [nil]
    return array.withUnsafeBufferPointer { body($0.baseAddress!) }
}
