// SHA-256 (FIPS 180-4) of buffers and files via the C code in CSHA256 (SHA-NI when the CPU has it), to record which
// checkpoint a module came from, with a digest cache keyed by (path, size, mtime, inode) so a checkpoint is hashed once.
import CSHA256
import Foundation
import PareCheckpoint

/// SHA-256 of a byte buffer, as lower-case hex (the C code in CSHA256: SHA-NI when the CPU has it).
public func sha256Hex(_ bytes: UnsafeRawBufferPointer) -> String {
    var digest = [UInt8](repeating: 0, count: 32)
    digest.withUnsafeMutableBufferPointer { pare_sha256(bytes.baseAddress, bytes.count, $0.baseAddress) }
    return hex(digest)
}

/// `bytes` as lower-case hex, two digits per byte.
private func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8](repeating: 0, count: bytes.count * 2)
    for (i, b) in bytes.enumerated() {
        out[2 * i] = digits[Int(b >> 4)]
        out[2 * i + 1] = digits[Int(b & 0xf)]
    }
    return String(decoding: out, as: UTF8.self)
}

/// SHA-256 of a file's contents, as lower-case hex. Digests are remembered in the user's cache
/// (`$PARE_DIGEST_CACHE`, else `$XDG_CACHE_HOME/pare/digests`, else `~/.cache/pare/digests`), keyed by the
/// file's absolute path, size, modification time and inode; a changed file is hashed again.
public func sha256Hex(file path: String) throws -> String {
    let f = try MappedFile(path: path)
    let key = digestCacheKey(path)
    if let key, let dir = digestCacheDirectory(),
       let cached = try? String(contentsOfFile: dir + "/" + key, encoding: .utf8), cached.count == 64 {
        return cached
    }
    let digest = sha256Hex(UnsafeRawBufferPointer(start: f.base, count: f.count))
    if let key, let dir = digestCacheDirectory() {
        // Best effort, atomic: a failed write only costs hashing again next time.
        let tmp = dir + "/.\(key).\(getpid())"
        if (try? digest.write(toFile: tmp, atomically: false, encoding: .utf8)) != nil { rename(tmp, dir + "/" + key) }
    }
    return digest
}

private func digestCacheDirectory() -> String? {
    let env = ProcessInfo.processInfo.environment
    let dir = env["PARE_DIGEST_CACHE"]
        ?? (env["XDG_CACHE_HOME"].map { $0 + "/pare/digests" })
        ?? (env["HOME"].map { $0 + "/.cache/pare/digests" })
    guard let dir else { return nil }
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return FileManager.default.isWritableFile(atPath: dir) ? dir : nil
}

private func digestCacheKey(_ path: String) -> String? {
    var st = stat()
    guard stat(path, &st) == 0 else { return nil }
    let abs = URL(fileURLWithPath: path).standardizedFileURL.path
    let id = "\(abs)\u{0}\(st.st_size)\u{0}\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)\u{0}\(st.st_ino)"
    return Data(id.utf8).withUnsafeBytes { sha256Hex($0) }
}
