// Writing IR text files atomically: a temporary file beside the target, then a rename, so a reader never sees
// half a module and a failed write leaves any earlier file as it was.
import Foundation

/// Why IR text could not be written.
public struct IRWriteError: Error, LocalizedError, Sendable {
    public var path: String
    public var reason: String
    public var errorDescription: String? { "\(path): cannot write: \(reason)" }
}

/// Writes `text` to `path` atomically (temporary file in the same folder, then rename).
public func writeTextAtomically(_ text: String, to path: String) throws {
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
        throw IRWriteError(path: path, reason: error.localizedDescription)
    }
}
