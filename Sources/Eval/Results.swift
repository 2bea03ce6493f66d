// The results file of an evaluation: JSON Lines, a header naming what was run, then one record per problem,
// appended and flushed as each problem finishes, so an interrupted run resumes where it stopped.
import Foundation

/// The harness version new results files record: 2 added the end marker (an early exit is no pass), chat programs
/// that keep the prompt's helpers and drop `if __name__` blocks.
public let harnessVersion = 2

/// The first line of a results file: what was evaluated, and how. A run resumes a file only with an equal header.
public struct RunHeader: Codable, Sendable, Equatable {
    /// Always "pare-eval": tells a header from a record.
    public var format = "pare-eval"
    public var benchmark = "humaneval"
    public var `protocol`: EvalProtocol
    /// The model as given on the command line.
    public var model: String
    /// SHA-256 of the plan that ran (its plan.pb, which records every tensor's checksum and the weights' SHA-256).
    public var model_sha256: String
    /// SHA-256 of the problem file.
    public var data_sha256: String
    public var max_tokens: Int
    public var timeout_seconds: Double
    public var memory_mb: Int
    /// The version of the harness's program assembly and scoring (`harnessVersion` when written; absent in files of
    /// version 1). Records of another version are re-scored (`--rescore`) or discarded, never mixed.
    public var harness: Int?

    /// A header for a run of `model` (whose plan.pb hashes to `model_sha256`) on data hashing to `data_sha256`.
    public init(protocol: EvalProtocol, model: String, model_sha256: String, data_sha256: String, max_tokens: Int,
                timeout_seconds: Double, memory_mb: Int) {
        self.protocol = `protocol`
        self.model = model
        self.model_sha256 = model_sha256
        self.data_sha256 = data_sha256
        self.max_tokens = max_tokens
        self.timeout_seconds = timeout_seconds
        self.memory_mb = memory_mb
        harness = harnessVersion
    }

    /// The fields that must agree for a run to continue a file, with their values here and in `other`.
    func mismatch(_ other: RunHeader) -> (field: String, here: String, there: String)? {
        let fields: [(String, String, String)] = [
            ("benchmark", benchmark, other.benchmark), ("protocol", `protocol`.rawValue, other.protocol.rawValue),
            ("model sha256", model_sha256, other.model_sha256), ("data sha256", data_sha256, other.data_sha256),
            ("max tokens", "\(max_tokens)", "\(other.max_tokens)"), ("timeout", "\(timeout_seconds) s", "\(other.timeout_seconds) s"),
            ("memory", "\(memory_mb) MB", "\(other.memory_mb) MB"),
            ("harness version", "\(harness ?? 1)", "\(other.harness ?? 1)"),
        ]
        return fields.first { $0.1 != $0.2 }.map { (field: $0.0, here: $0.1, there: $0.2) }
    }
}

/// One problem's result.
public struct ProblemRecord: Codable, Sendable, Equatable {
    public var task_id: String
    /// The model's output up to the stop sequence or end of turn (for chat: the whole reply).
    public var completion: String
    public var passed: Bool
    /// Why it failed (assertion, syntax, exception, timeout, memory, crash); absent when it passed.
    public var error: FailureKind?
    /// The last line of the program's standard error.
    public var error_detail: String?
    /// Generation plus execution, wall seconds.
    public var seconds: Double
    public var generation_seconds: Double
    public var execution_seconds: Double
    /// Tokens generated (including a final end-of-turn token).
    public var tokens: Int
    public var prompt_tokens: Int
    /// Why generation ended: stop (a stop sequence), eos (an end token), length (max tokens), context (full KV cache).
    public var stop_reason: String

    /// A record (also for tests that plant results).
    public init(task_id: String, completion: String, passed: Bool, error: FailureKind?, error_detail: String?, seconds: Double,
                generation_seconds: Double, execution_seconds: Double, tokens: Int, prompt_tokens: Int, stop_reason: String) {
        self.task_id = task_id
        self.completion = completion
        self.passed = passed
        self.error = error
        self.error_detail = error_detail
        self.seconds = seconds
        self.generation_seconds = generation_seconds
        self.execution_seconds = execution_seconds
        self.tokens = tokens
        self.prompt_tokens = prompt_tokens
        self.stop_reason = stop_reason
    }
}

/// A results file: its header and the records read so far.
public struct ResultsFile {
    public let path: String
    public let header: RunHeader
    public private(set) var records: [ProblemRecord]
    private let handle: FileHandle

    /// Opens `path` for `header`: a new file gets the header; an existing one must have an equal header (else
    /// `EvalError.resultsMismatch`), and its records are kept. A last line cut short by an interruption is dropped.
    /// `restart` discards an existing file. `rescore`, given, turns a file that differs only in harness version into
    /// one of this version: every record goes through it (re-running its program; the completion is kept, since
    /// generation settings are equal) and the file is rewritten atomically.
    public init(path: String, header: RunHeader, restart: Bool,
                rescore: ((ProblemRecord) throws -> ProblemRecord)? = nil) throws {
        self.path = path
        self.header = header
        let fm = FileManager.default
        if restart { try? fm.removeItem(atPath: path) }
        if fm.fileExists(atPath: path) {
            var (found, records, goodBytes) = try Self.parse(path, tolerateTruncatedEnd: true)
            if let m = header.mismatch(found) {
                var newer = found
                newer.harness = header.harness
                guard m.field == "harness version", header.mismatch(newer) == nil, let rescore else {
                    throw EvalError.resultsMismatch(path: path, field: m.field, file: m.there, run: m.here)
                }
                records = try records.map(rescore)
                let lines = try ([Self.encode(header)] + records.map { try Self.encode($0) }).map { $0 + Data([0x0A]) }
                let data = lines.reduce(Data(), +)
                do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
                    throw EvalError.badResults(path: path, line: 0, detail: "cannot rewrite: \(error.localizedDescription)")
                }
                goodBytes = data.count
            }
            self.records = records
            guard let h = FileHandle(forUpdatingAtPath: path) else { throw EvalError.badResults(path: path, line: 0, detail: "cannot open for writing") }
            try h.truncate(atOffset: UInt64(goodBytes))
            try h.seek(toOffset: UInt64(max(goodBytes - 1, 0)))
            let last = try h.read(upToCount: 1) ?? Data()
            try h.seekToEnd()
            if last != Data([0x0A]) { try h.write(contentsOf: Data([0x0A])) }  // a complete last line without its newline
            handle = h
        } else {
            let dir = (path as NSString).deletingLastPathComponent
            if !dir.isEmpty { try? fm.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            guard fm.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
                throw EvalError.badResults(path: path, line: 0, detail: "cannot create the file")
            }
            handle = h
            records = []
            try append(line: Self.encode(header))
        }
    }

    /// Appends a record and flushes it to disk.
    public mutating func append(_ record: ProblemRecord) throws {
        try append(line: Self.encode(record))
        records.append(record)
    }

    private func append(line: Data) throws {
        try handle.write(contentsOf: line + Data([0x0A]))
        try handle.synchronize()
    }

    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try e.encode(value)
    }

    /// Reads a complete results file (for `pare eval compare`).
    public static func read(_ path: String) throws -> (header: RunHeader, records: [ProblemRecord]) {
        let (h, r, _) = try parse(path, tolerateTruncatedEnd: false)
        return (h, r)
    }

    /// The header, the records, and the byte length of the well-formed lines. With `tolerateTruncatedEnd`, a last
    /// line without its newline that does not parse is left out (a write the interruption cut short).
    static func parse(_ path: String, tolerateTruncatedEnd: Bool) throws -> (RunHeader, [ProblemRecord], Int) {
        guard let data = FileManager.default.contents(atPath: path) else { throw EvalError.badResults(path: path, line: 0, detail: "cannot read the file") }
        let decoder = JSONDecoder()
        var header: RunHeader?
        var records: [ProblemRecord] = []
        var seen = Set<String>()
        var start = data.startIndex, line = 0, good = 0
        while start < data.endIndex {
            line += 1
            let newline = data[start...].firstIndex(of: 0x0A)
            let end = newline ?? data.endIndex
            let bytes = data[start..<end]
            let next = newline.map { $0 + 1 } ?? data.endIndex
            do {
                if header == nil {
                    let h = try decoder.decode(RunHeader.self, from: bytes)
                    guard h.format == "pare-eval" else { throw EvalError.badResults(path: path, line: line, detail: "the first line is not a header") }
                    header = h
                } else {
                    let r = try decoder.decode(ProblemRecord.self, from: bytes)
                    guard seen.insert(r.task_id).inserted else { throw EvalError.badResults(path: path, line: line, detail: "\(r.task_id) appears twice") }
                    records.append(r)
                }
            } catch {
                if tolerateTruncatedEnd && newline == nil && header != nil { break }
                if let e = error as? EvalError { throw e }
                throw EvalError.badResults(path: path, line: line, detail: "\(error)")
            }
            good = next - data.startIndex
            start = next
        }
        guard let header else { throw EvalError.badResults(path: path, line: 1, detail: "the file is empty: no header") }
        return (header, records, good)
    }
}
