// Shared helpers for the GGUF tests: fixture and model paths, exact float comparison.
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest
import PareCheckpoint

/// Where the GGUF fixtures and the real models are.
enum GGUFPaths {
    /// The package root: this file is <root>/Tests/CheckpointTests/GGUFTestSupport.swift.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// Tests/CheckpointTests/Fixtures/gguf.
    static let fixtures = root.appendingPathComponent("Tests/CheckpointTests/Fixtures/gguf")
    /// `$PARE_CACHE` or <root>/.cache.
    static let cache = ProcessInfo.processInfo.environment["PARE_CACHE"].map { URL(fileURLWithPath: $0) }
        ?? root.appendingPathComponent(".cache")

    /// The path of a real model, failing the test with a fetch hint when it is absent.
    static func model(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let p = cache.appendingPathComponent("models/" + name).path
        guard FileManager.default.fileExists(atPath: p) else {
            XCTFail("\(p) is missing: run scripts/fetch-models.sh", file: file, line: line)
            throw MissingModel(path: p)
        }
        return p
    }
}

/// The result of comparing float32 arrays, reported like llm.c's check_tensor.
struct FloatComparison: CustomStringConvertible {
    var count = 0
    var mismatches = 0
    var maxDifference: Float = 0
    var firstMismatch: (index: Int, got: Float, want: Float)?
    var ok: Bool { mismatches == 0 }
    var description: String {
        let first = firstMismatch.map { " first at [\($0.index)]: got \($0.got), want \($0.want)" } ?? ""
        return "\(count) values, \(mismatches) mismatches, max difference \(maxDifference)\(first): \(ok ? "OK" : "NOT OK")"
    }

    /// Compares `got` with `want`: bit-identical when `relative` is 0, else within `relative * |want|`
    /// (or `relative` absolutely near zero).
    init(_ got: UnsafeBufferPointer<Float>, _ want: UnsafeBufferPointer<Float>, relative: Float = 0) {
        count = want.count
        if got.count != want.count {
            mismatches = max(got.count, want.count)
            return
        }
        for i in 0..<want.count {
            let g = got[i], w = want[i]
            let d = abs(g - w)
            let same = relative == 0 ? g.bitPattern == w.bitPattern : d <= relative * max(abs(w), 1)
            if !same {
                mismatches += 1
                if firstMismatch == nil { firstMismatch = (i, g, w) }
            }
            if d.isFinite { maxDifference = max(maxDifference, d) }
        }
    }

    init(_ got: [Float], _ want: [Float], relative: Float = 0) {
        self = got.withUnsafeBufferPointer { g in want.withUnsafeBufferPointer { w in FloatComparison(g, w, relative: relative) } }
    }
}

/// Reads a little-endian float32 file.
func readFloats(_ url: URL) throws -> [Float] {
    let data = try Data(contentsOf: url)
    return data.withUnsafeBytes { raw in (0..<data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) } }
}

/// Thrown after the test has failed because a real model is not in the cache.
struct MissingModel: Error, CustomStringConvertible {
    var path: String
    var description: String { "\(path) is missing: run scripts/fetch-models.sh" }
}

/// A seeded generator (SplitMix64), so random-input tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// A scratch directory for files a test writes, removed at deinit.
final class GGUFScratchDirectory {
    let url: URL
    private var counter = 0
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("pare-gguf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes `bytes` to a new file and returns its path.
    func write(_ bytes: [UInt8], name: String? = nil) throws -> String {
        counter += 1
        let p = url.appendingPathComponent(name ?? "f\(counter).gguf").path
        // Plain stdio: Foundation's Data.write fsyncs, which makes thousands of tiny files slow.
        guard let f = fopen(p, "wb") else { throw CocoaError(.fileWriteUnknown) }
        defer { fclose(f) }
        guard bytes.isEmpty || fwrite(bytes, 1, bytes.count, f) == bytes.count else { throw CocoaError(.fileWriteUnknown) }
        return p
    }
}
