// Calibration sets: a code file tokenized and cut into evenly spaced windows that start at line starts, in
// source-vocabulary ids; held-out text cut into pieces the same way; and where Pare's shipped corpora (data/) are
// found at run time.
import Foundation
import PareIR
import ParePasses
import PareTokenizer

/// A calibration request or file Pare cannot use; messages say what to change.
public enum CalibrationError: Error, LocalizedError, Equatable {
    /// `samples` outside 1...256.
    case badSamples(Int)
    /// `length` outside 8...2048.
    case badLength(Int)
    /// The file does not exist or cannot be read.
    case unreadable(path: String, reason: String)
    /// The file has fewer tokens than `samples x length`.
    case tooShort(path: String, tokens: Int, samples: Int, length: Int)
    /// The shipped corpus was not found.
    case noShippedData(file: String, searched: [String])
    /// `samples` held-out pieces outside 1...256 or `bytes` per piece outside 64...65536.
    case badHeldOut(samples: Int, bytes: Int)
    /// The held-out file has fewer bytes than `samples x pieceBytes`.
    case heldOutTooShort(path: String, bytes: Int, samples: Int, pieceBytes: Int)

    /// What is wrong and what to change.
    public var errorDescription: String? {
        switch self {
        case .badSamples(let n):
            return "calibration samples must be in \(calibrationSamples.lowerBound)...\(calibrationSamples.upperBound), got \(n)"
        case .badLength(let n):
            return "calibration length must be in \(calibrationLength.lowerBound)...\(calibrationLength.upperBound) tokens, got \(n)"
        case let .unreadable(path, reason):
            return "calibration file \(path): \(reason)"
        case let .tooShort(path, tokens, samples, length):
            return "calibration file \(path) has \(tokens) tokens; \(samples) samples of \(length) tokens need \(samples * length): "
                + "give a longer file, or fewer or shorter samples (--calibration-samples, --calibration-length)"
        case let .badHeldOut(samples, bytes):
            return "held-out text: \(samples) pieces of \(bytes) bytes; pieces must be in \(heldOutSamples.lowerBound)...\(heldOutSamples.upperBound) "
                + "and bytes per piece in \(heldOutBytes.lowerBound)...\(heldOutBytes.upperBound) (--held-out-samples, --held-out-bytes)"
        case let .heldOutTooShort(path, bytes, samples, pieceBytes):
            return "held-out file \(path) has \(bytes) bytes; \(samples) pieces of \(pieceBytes) bytes need \(samples * pieceBytes): "
                + "give a longer file, or fewer or shorter pieces (--held-out-samples, --held-out-bytes)"
        case let .noShippedData(file, searched):
            return "Pare's shipped \(file) was not found (looked in \(searched.joined(separator: ", "))); "
                + "set PARE_DATA to the folder holding it (the repository's data/), or give a file explicitly"
        }
    }
}

/// Valid numbers of calibration sequences.
public let calibrationSamples = 1...256
/// Valid calibration sequence lengths, in tokens.
public let calibrationLength = 8...2048

/// The default calibration file, relative to the data folder.
public let defaultCalibrationFile = "calibration/code.txt"
/// The default vocabulary corpus, relative to the data folder.
public let defaultCorpusFile = "corpus/code.txt"
/// The default held-out text, relative to the data folder: code in several languages and prose that no shipped
/// corpus or calibration file contains.
public let defaultHeldOutFile = "heldout/mixed.txt"
/// Valid numbers of held-out pieces.
public let heldOutSamples = 1...256
/// Valid held-out piece sizes, in bytes.
public let heldOutBytes = 64...65536

/// Where Pare's shipped data (the `data/` folder of the repository) is found, in order: `$PARE_DATA`; the
/// package this binary was built from (from this source file's path at build time); folders above the executable.
public enum PareData {
    /// The folders searched, most specific first.
    public static var candidates: [String] {
        var c: [String] = []
        if let env = ProcessInfo.processInfo.environment["PARE_DATA"], !env.isEmpty { c.append(env) }
        // Sources/Frontend/Calibration.swift -> the package root.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        c.append(root.appendingPathComponent("data").path)
        var dir = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            c.append(dir.appendingPathComponent("data").path)
            dir = dir.deletingLastPathComponent()
        }
        var seen = Set<String>()
        return c.filter { seen.insert($0).inserted }
    }

    /// The path of `file` (e.g. `calibration/code.txt`) in the first candidate folder that has it.
    public static func path(_ file: String) throws -> String {
        let all = candidates
        guard let dir = all.first(where: { FileManager.default.fileExists(atPath: $0 + "/" + file) }) else {
            throw CalibrationError.noShippedData(file: "data/" + file, searched: all)
        }
        return dir + "/" + file
    }
}

/// Tokenizes the calibration file at `path` (default: the shipped `data/calibration/code.txt`) with `tokenizer`
/// and cuts `samples` windows of `length` tokens, evenly spaced over the file and disjoint, each starting at the
/// start of a line when one lies between its neighbours (the one nearest its even position). Deterministic.
/// Ids are the tokenizer's; when it is a pruned vocabulary's, `idMap` (new -> source id) turns them into source ids.
public func loadCalibration(path: String?, tokenizer: BPETokenizer, samples: Int, length: Int,
                            idMap: IndexList? = nil) throws -> Calibration {
    guard calibrationSamples.contains(samples) else { throw CalibrationError.badSamples(samples) }
    guard calibrationLength.contains(length) else { throw CalibrationError.badLength(length) }
    let (shown, data, text) = try readDataText(path, default: defaultCalibrationFile)

    var ids = tokenizer.encode(text)
    guard ids.count >= samples * length else {
        throw CalibrationError.tooShort(path: shown, tokens: ids.count, samples: samples, length: length)
    }
    let starts = windowStarts(tokens: ids.count, samples: samples, length: length) { t in
        t == 0 || tokenizer.decode([ids[t - 1]]).hasSuffix("\n")
    }
    let texts = starts.map { tokenizer.decode(Array(ids[$0..<($0 + length)])) }
    if let idMap { ids = ids.map { $0 < idMap.count ? idMap[$0] : $0 } }
    let digest = data.withUnsafeBytes { sha256Hex($0) }
    return Calibration(sequences: starts.map { Array(ids[$0..<($0 + length)]) },
                       origin: "\(shown) (sha256 \(digest.prefix(12))), \(samples) x \(length) of its \(ids.count) tokens",
                       texts: texts)
}

/// `path` (or the shipped data file `default`) as UTF-8: the name to show in messages, its bytes and its text.
/// Throws `CalibrationError.unreadable` naming what is wrong.
func readDataText(_ path: String?, default name: String) throws -> (shown: String, data: Data, text: String) {
    let file = try path ?? PareData.path(name)
    let shown = path ?? "data/" + name
    guard FileManager.default.fileExists(atPath: file) else { throw CalibrationError.unreadable(path: shown, reason: "no such file") }
    guard let data = FileManager.default.contents(atPath: file) else {
        throw CalibrationError.unreadable(path: shown, reason: "permission denied or not a file")
    }
    guard let text = String(data: data, encoding: .utf8) else { throw CalibrationError.unreadable(path: shown, reason: "not UTF-8 text") }
    return (shown, data, text)
}

/// Reads the held-out text at `path` (default: the shipped `data/heldout/mixed.txt`) and cuts `samples` disjoint
/// pieces of about `bytes` bytes, evenly spaced and starting at line starts (`textPieces`). Deterministic.
public func loadHeldOut(path: String?, samples: Int, bytes: Int) throws -> HeldOutText {
    guard heldOutSamples.contains(samples), heldOutBytes.contains(bytes) else { throw CalibrationError.badHeldOut(samples: samples, bytes: bytes) }
    let (shown, data, text) = try readDataText(path, default: defaultHeldOutFile)
    guard let pieces = textPieces(text, samples: samples, bytes: bytes) else {
        throw CalibrationError.heldOutTooShort(path: shown, bytes: data.count, samples: samples, pieceBytes: bytes)
    }
    let digest = data.withUnsafeBytes { sha256Hex($0) }
    return HeldOutText(texts: pieces, origin: "\(shown) (sha256 \(digest.prefix(12))), \(samples) x \(bytes) of its \(data.count) bytes")
}
