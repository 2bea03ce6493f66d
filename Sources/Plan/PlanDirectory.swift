// The on-disk plan: a directory holding plan.pb and weights.bin, written atomically and read with the blob mmap'd.
//
//   model.pare/
//     plan.pb       the serialized plan (PlanCodec.swift)
//     weights.bin   every tensor's float32 values, little-endian, each tensor at a multiple of 64 bytes, zero padding
//
// Writing goes to a temporary sibling directory that is renamed into place only when complete, so `path` holds
// either the old plan, or (for an instant while an old plan is moved aside) nothing, or the new plan: never a
// half-written one. An existing `path` is replaced only if it is an empty directory or holds a plan.pb.
import CCRC32C
import CSHA256
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads and writes plan directories (`plan.pb` + `weights.bin`).
public enum PlanDirectory {
    /// The plan's file name inside a plan directory.
    public static let planFile = "plan.pb"
    /// The weight blob's file name inside a plan directory.
    public static let weightsFile = "weights.bin"

    /// Writes plan.pb and weights.bin into `path` (a directory) atomically: into a temporary sibling directory,
    /// then renamed over any existing one. Assigns tensors' offset (64-aligned, in order), length, checksum and
    /// plan.weights (file "weights.bin", length, sha256). `data(i)` returns tensor i's floats (count == shape product),
    /// called once per tensor in order, so the whole blob need not be in memory. Returns the plan as written.
    /// The plan is validated before any byte is written; the same inputs always give the same bytes.
    public static func write(_ plan: ExecutionPlan, to path: String, data: (Int) throws -> [Float]) throws -> ExecutionPlan {
        try write(plan, to: path, tensorData: { .floats(try data($0)) })
    }

    /// A tensor's contents for `write`: float32 values (an f32 tensor) or its bytes in its own dtype.
    public enum TensorData {
        case floats([Float])
        case bytes([UInt8])
    }

    /// As `write(_:to:data:)`, with each tensor's contents as floats (f32 tensors) or as bytes in its dtype
    /// (`length` of them).
    public static func write(_ plan: ExecutionPlan, to path: String, tensorData data: (Int) throws -> TensorData) throws -> ExecutionPlan {
        var plan = plan
        var end = 0
        for i in plan.tensors.indices {
            let t = plan.tensors[i]
            guard !t.shape.isEmpty, t.shape.allSatisfy({ $0 > 0 }),
                  t.shape.reduce(Optional(1), { p, d in p.flatMap { safeMultiply($0, d) } }) != nil,
                  let bytes = t.dtype.byteCount(shape: t.shape), end <= Int.max - 64 - bytes else {
                throw PlanError.tensorShape(tensor: t.name, shape: t.shape)
            }
            plan.tensors[i].offset = alignUp(end)
            plan.tensors[i].length = bytes
            plan.tensors[i].checksum = 0
            end = plan.tensors[i].offset + bytes
        }
        plan.weights = WeightBlob(file: weightsFile, length: end, sha256: "")
        try plan.validate()

        let target = URL(fileURLWithPath: path).standardizedFileURL
        let parent = target.deletingLastPathComponent().path, name = target.lastPathComponent
        let replacing = try checkReplaceable(target.path)
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw PlanError.cannotWrite(path: parent, reason: error.localizedDescription)
        }
        let temp = parent + "/.\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard mkdir(temp, 0o755) == 0 else { throw PlanError.cannotWrite(path: temp, reason: errnoText()) }
        var complete = false
        defer { if !complete { try? FileManager.default.removeItem(atPath: temp) } }

        // weights.bin, one tensor at a time.
        let blobPath = temp + "/" + weightsFile
        let blob = try OutputFile(path: blobPath)
        for i in plan.tensors.indices {
            let t = plan.tensors[i]
            try blob.appendZeros(t.offset - blob.written)
            switch try data(i) {
            case .floats(var floats):
                guard t.dtype == .f32, floats.count == t.length / 4 else {
                    throw PlanError.tensorData(tensor: t.name, expected: t.length / t.dtype.blockBytes * t.dtype.blockElements, found: floats.count)
                }
                #if _endian(big)
                floats = floats.map { Float(bitPattern: $0.bitPattern.littleEndian) }
                #endif
                plan.tensors[i].checksum = try floats.withUnsafeBytes { bytes in
                    try blob.append(bytes)
                    return pare_crc32c(0, bytes.baseAddress, bytes.count)
                }
            case .bytes(let bytes):
                guard bytes.count == t.length else { throw PlanError.tensorData(tensor: t.name, expected: t.length, found: bytes.count) }
                plan.tensors[i].checksum = try bytes.withUnsafeBytes { b in
                    try blob.append(b)
                    return pare_crc32c(0, b.baseAddress, b.count)
                }
            }
        }
        try blob.finish()
        plan.weights.sha256 = try MappedBlob(path: blobPath).withBytes(sha256Hex)

        // plan.pb, then swap the directory in.
        let planBytes = try encodePlan(plan)
        let planOut = try OutputFile(path: temp + "/" + planFile)
        try planBytes.withUnsafeBytes { try planOut.append($0) }
        try planOut.finish()
        try swapIn(temp, over: target.path, replacing: replacing, parent: parent, name: name)
        complete = true
        syncDirectory(parent)
        return plan
    }

    /// Reads the plan at `path` (a plan directory, or its plan.pb): decodes and validates plan.pb, maps the weight
    /// blob read-only, checks its length and, when `verifyChecksums`, every tensor's CRC-32C.
    public static func read(_ path: String, verifyChecksums: Bool = true) throws -> LoadedPlan {
        let start = DispatchTime.now().uptimeNanoseconds
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw PlanError.cannotRead(path: path, reason: "no such file or directory; give a directory written by `pare compile`")
        }
        let directory = isDirectory.boolValue ? path : (URL(fileURLWithPath: path).deletingLastPathComponent().path)
        let planPath = isDirectory.boolValue ? path + "/" + planFile : path
        let bytes: Data
        do {
            bytes = try Data(contentsOf: URL(fileURLWithPath: planPath))
        } catch {
            let missing = !FileManager.default.fileExists(atPath: planPath)
            throw PlanError.cannotRead(path: planPath, reason: missing ? "no such file; is this a directory written by `pare compile`?"
                                                                      : error.localizedDescription)
        }
        let plan = try decodePlan(bytes, path: planPath)
        do { try plan.validate() } catch let e as PlanError { throw PlanError.invalid(path: planPath, e) }

        let blobPath = directory + "/" + plan.weights.file
        let blob = try MappedBlob(path: blobPath)
        guard blob.count == plan.weights.length else {
            throw PlanError.weightsLength(path: blobPath, expected: plan.weights.length, found: blob.count)
        }
        if verifyChecksums {
            var found = [UInt32](repeating: 0, count: plan.tensors.count)
            found.withUnsafeMutableBufferPointer { out in
                let base = blob.base, tensors = plan.tensors, out = out
                DispatchQueue.concurrentPerform(iterations: tensors.count) { i in
                    out[i] = pare_crc32c(0, base + tensors[i].offset, tensors[i].length)
                }
            }
            for (t, crc) in zip(plan.tensors, found) where crc != t.checksum {
                throw PlanError.tensorChecksum(path: blobPath, tensor: t.name, expected: t.checksum, found: crc)
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return LoadedPlan(plan: plan, path: directory, blob: blob, loadSeconds: seconds)
    }

    // MARK: Replacing a directory

    /// Whether `path` exists (and may be replaced: an empty directory or one holding plan.pb); throws otherwise.
    private static func checkReplaceable(_ path: String) throws -> Bool {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return false }
        guard isDirectory.boolValue else {
            throw PlanError.cannotWrite(path: path, reason: "it exists and is not a directory; remove it or choose another output path")
        }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        guard entries.isEmpty || entries.contains(planFile) else {
            throw PlanError.cannotWrite(path: path, reason: "it is a directory that holds no \(planFile), so it is not a plan to replace; remove it or choose another output path")
        }
        return true
    }

    /// Renames `temp` to `path`; an existing `path` is first moved aside and removed once the new one is in place.
    private static func swapIn(_ temp: String, over path: String, replacing: Bool, parent: String, name: String) throws {
        guard replacing else {
            guard rename(temp, path) == 0 else { throw PlanError.cannotWrite(path: path, reason: "rename failed: " + errnoText()) }
            return
        }
        let old = parent + "/.\(name).old-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard rename(path, old) == 0 else { throw PlanError.cannotWrite(path: path, reason: "cannot move the old plan aside: " + errnoText()) }
        guard rename(temp, path) == 0 else {
            let reason = errnoText()
            rename(old, path)  // put the old plan back
            throw PlanError.cannotWrite(path: path, reason: "rename failed: " + reason)
        }
        try? FileManager.default.removeItem(atPath: old)
    }

    /// fsync on a directory, so a rename in it is durable. Best effort.
    private static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }
}

/// A plan read from disk: the validated plan and its weight blob, mapped read-only.
public final class LoadedPlan: @unchecked Sendable {
    /// The validated plan.
    public let plan: ExecutionPlan
    /// The plan directory.
    public let path: String
    /// The mmap'd weight blob (page aligned; read-only).
    public let weights: UnsafeRawBufferPointer
    /// Seconds `PlanDirectory.read` took (decode, validation, mapping, checksums), for benchmarks.
    public let loadSeconds: Double
    private let blob: MappedBlob

    fileprivate init(plan: ExecutionPlan, path: String, blob: MappedBlob, loadSeconds: Double) {
        self.plan = plan
        self.path = path
        self.blob = blob
        self.weights = UnsafeRawBufferPointer(start: blob.base, count: blob.count)
        self.loadSeconds = loadSeconds
    }

    /// Tensor `i`'s bytes in its dtype, in place in the mapping.
    public func tensorBytes(_ i: Int) -> UnsafeRawBufferPointer {
        let t = plan.tensors[i]
        return UnsafeRawBufferPointer(start: UnsafeRawPointer(blob.base.advanced(by: t.offset)), count: t.length)
    }

    /// Tensor `i`'s floats (`plan.tensors[i].count` of them, row-major), in place in the mapping. f32 tensors only.
    public func tensor(_ i: Int) -> UnsafeBufferPointer<Float> {
        let t = plan.tensors[i]
        let start = blob.base.advanced(by: t.offset).bindMemory(to: Float.self, capacity: t.length / 4)
        return UnsafeBufferPointer(start: start, count: t.length / 4)
    }

    /// Checks the whole blob's SHA-256 against `plan.weights.sha256` (for `pare inspect --verify`).
    public func verifySHA256() throws {
        let found = blob.withBytes(sha256Hex)
        guard found == plan.weights.sha256 else {
            throw PlanError.weightsHash(path: path + "/" + plan.weights.file, expected: plan.weights.sha256, found: found)
        }
    }
}

// MARK: Files

/// A whole file mapped read-only (private to this file; PareCheckpoint has its own).
private final class MappedBlob: @unchecked Sendable {
    let base: UnsafeRawPointer
    let count: Int
    private let mapped: Bool

    init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw PlanError.cannotRead(path: path, reason: errnoText()) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw PlanError.cannotRead(path: path, reason: errnoText()) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw PlanError.cannotRead(path: path, reason: "not a regular file") }
        count = Int(st.st_size)
        if count == 0 {
            base = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 4096))
            mapped = false
            return
        }
        guard let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw PlanError.cannotRead(path: path, reason: "mmap failed: " + errnoText())
        }
        base = UnsafeRawPointer(p)
        mapped = true
    }

    deinit {
        if mapped { munmap(UnsafeMutableRawPointer(mutating: base), count) } else { base.deallocate() }
    }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }
}

/// A new file written sequentially with write(2), fsync'd on close.
private final class OutputFile {
    let path: String
    private var fd: Int32
    private(set) var written = 0

    init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_TRUNC, 0o644)
        guard fd >= 0 else { throw PlanError.cannotWrite(path: path, reason: errnoText()) }
    }

    deinit { if fd >= 0 { close(fd) } }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard let start = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let n = write(fd, start + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw PlanError.cannotWrite(path: path, reason: errnoText())
            }
            done += n
        }
        written += bytes.count
    }

    func appendZeros(_ n: Int) throws {
        guard n > 0 else { return }
        let zeros = [UInt8](repeating: 0, count: n)
        try zeros.withUnsafeBytes { try append($0) }
    }

    func finish() throws {
        let syncFailed = fsync(fd) != 0
        let reason = errnoText()
        let closeFailed = close(fd) != 0
        fd = -1
        if syncFailed || closeFailed { throw PlanError.cannotWrite(path: path, reason: syncFailed ? reason : errnoText()) }
    }
}

/// SHA-256 of `bytes` as lower-case hex.
private func sha256Hex(_ bytes: UnsafeRawBufferPointer) -> String {
    var digest = [UInt8](repeating: 0, count: 32)
    digest.withUnsafeMutableBufferPointer { pare_sha256(bytes.baseAddress, bytes.count, $0.baseAddress) }
    return digest.map { hex8(UInt32($0)).suffix(2) }.joined()
}

/// `n` rounded up to a multiple of 64.
private func alignUp(_ n: Int) -> Int { (n + 63) & ~63 }

private func safeMultiply(_ a: Int, _ b: Int) -> Int? {
    let (r, overflow) = a.multipliedReportingOverflow(by: b)
    return overflow ? nil : r
}

private func errnoText() -> String { String(cString: strerror(errno)) }
