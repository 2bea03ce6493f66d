// A 64-byte-aligned float allocation that the runtime owns: the arena, KV caches and scratch.
import Foundation

/// Uninitialised float storage aligned to 64 bytes, freed with its owner. `[count]`
final class AlignedFloats {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    /// Allocates `count` floats (at least one); `what` names the allocation in the error.
    /// Large allocations are mapped lazily by the OS: untouched pages (e.g. unused KV positions) cost nothing.
    init(count: Int, what: String, zeroed: Bool = false) throws {
        let n = max(count, 1)
        let (bytes, overflow) = n.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        guard !overflow else { throw RuntimeError.allocationFailed(what: what, bytes: Int.max) }
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, bytes) == 0, let raw else {
            throw RuntimeError.allocationFailed(what: what, bytes: bytes)
        }
        if zeroed { memset(raw, 0, bytes) }
        pointer = raw.bindMemory(to: Float.self, capacity: n)
        self.count = n
    }

    deinit { free(pointer) }
}
