// Where the tests find the real models, the transformers references and the scripts.
import Foundation
import XCTest

/// Paths into the repository and its git-ignored model cache.
enum Paths {
    /// The package root (Tests/ModelTests/Paths.swift is two levels down).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let cache = ProcessInfo.processInfo.environment["PARE_CACHE"] ?? root + "/.cache"
    static let shared = ProcessInfo.processInfo.environment["PARE_SHARED"] ?? root + "/../shared"

    static let smolGGUF = cache + "/models/SmolLM2-135M-Instruct.Q4_1.gguf"
    static let qwenGGUF = cache + "/models/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf"
    static let smolReference = shared + "/reference/smollm2-135m-instruct"
    static let qwenReference = shared + "/reference/qwen2.5-coder-0.5b-instruct"

    /// The path, or a test failure saying how to fetch it.
    static func require(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        guard FileManager.default.fileExists(atPath: path) else {
            XCTFail("\(path) is missing: run scripts/fetch-models.sh first", file: file, line: line)
            throw XCTSkip("missing \(path)")
        }
        return path
    }
}
