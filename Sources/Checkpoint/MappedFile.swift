// A read-only memory-mapped file: tensor data is read in place, never copied whole.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file mapped read-only into memory for its whole lifetime.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    /// Start of the mapping.
    public let base: UnsafeRawPointer
    /// File size in bytes.
    public let count: Int

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw CheckpointError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw CheckpointError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw CheckpointError.cannotOpen(path: path, reason: "not a regular file") }
        count = Int(st.st_size)
        if count == 0 {
            base = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 64))
            return
        }
        guard let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw CheckpointError.cannotOpen(path: path, reason: "mmap failed: " + String(cString: strerror(errno)))
        }
        base = UnsafeRawPointer(p)
    }

    deinit {
        if count > 0 { munmap(UnsafeMutableRawPointer(mutating: base), count) } else { base.deallocate() }
    }

    /// The bytes `[offset, offset+length)`, or nil when that range is not inside the file.
    public func bytes(_ offset: Int, _ length: Int) -> UnsafeRawBufferPointer? {
        guard offset >= 0, length >= 0, offset <= count, length <= count - offset else { return nil }
        return UnsafeRawBufferPointer(start: base + offset, count: length)
    }
}
