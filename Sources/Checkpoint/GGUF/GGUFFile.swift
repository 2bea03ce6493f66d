// Reads a GGUF file (versions 2 and 3): metadata, tensor infos, and tensors dequantised to float32.
//
// The GGUF layout facts this reader relies on (from the GGUF spec in ggml's docs/gguf.md and gguf.cpp):
//   - Every scalar is little-endian. (Big-endian GGUF files exist; they show up as a byte-swapped version
//     number and are rejected.)
//   - Header: 4 magic bytes "GGUF" (0x47 0x47 0x55 0x46), u32 version, u64 tensor_count,
//     u64 metadata_kv_count. Version 1 used u32 for these counts and for string lengths; versions 2 and 3
//     share one layout (3 only marked that big-endian files may exist).
//   - A string is a u64 byte length followed by that many UTF-8 bytes, with no terminator.
//   - Then metadata_kv_count pairs: string key, u32 value type, value. Value types: 0 uint8, 1 int8,
//     2 uint16, 3 int16, 4 uint32, 5 int32, 6 float32, 7 bool (1 byte), 8 string, 9 array, 10 uint64,
//     11 int64, 12 float64. An array is u32 element type, u64 count, then the elements back to back;
//     elements may be strings or arrays themselves.
//   - Then tensor_count tensor infos: string name, u32 n_dims (at most 4), n_dims u64 extents `ne`
//     (ne[0] is the innermost, contiguous dimension), u32 ggml type, u64 offset of the tensor's data
//     relative to the start of the data section, a multiple of the alignment.
//   - `general.alignment` (u32, a power of two) gives the alignment; it defaults to 32.
//   - The data section starts at the first multiple of the alignment (counted from the start of the file)
//     at or after the end of the tensor infos.
//   - A tensor is stored row by row: ne[0] elements in ne[0] / blockSize blocks of typeSize bytes, so it
//     takes ne[0] / blockSize * typeSize * ne[1] * ne[2] * ne[3] bytes; ne[0] must be a multiple of the
//     block size. Reversed, `ne` is the row-major shape: a matrix with ne = [cols, rows] is [rows, cols].
import Foundation

/// A GGUF checkpoint, memory-mapped: metadata is parsed at open, tensor data is read in place.
public final class GGUFFile: TensorReader {
    /// The file, for messages.
    public let path: String
    /// GGUF version: 2 or 3.
    public let version: Int
    /// Every metadata key and its value.
    public let metadata: [String: GGUFValue]
    /// The metadata keys in file order.
    public let metadataKeys: [String]
    /// Alignment of tensor data in bytes (`general.alignment`, default 32).
    public let alignment: Int
    /// Every tensor, in file order; `shape` is `ne` reversed (`[rows, cols]` for a matrix).
    public let tensorInfos: [TensorInfo]
    /// Byte offset of the data section in the file.
    public let dataOffset: Int

    /// Where one tensor's bytes are.
    private struct Location: Sendable {
        var type: GGMLType
        var offset: Int     // absolute, in the file
        var byteCount: Int
    }

    private let file: MappedFile
    private let locations: [Location]
    private let index: [String: Int]

    /// Opens and validates `path`: header, metadata, tensor infos, and that every tensor's bytes lie
    /// inside the file. Throws `CheckpointError` for anything wrong, never traps. A type number ggml does
    /// not define is rejected here (`unknownTensorType`, naming the tensor); a real ggml type Pare cannot
    /// dequantise (IQ*, Q8_K, TQ*, integer types...) opens, and `readFloat32` throws `unsupported` for it.
    public init(path: String) throws {
        let file = try MappedFile(path: path)
        self.file = file
        self.path = path
        var c = GGUFCursor(base: file.base, count: file.count, path: path)

        // Header.
        let magic = try c.take(4, "the header (magic)")
        let magicBytes = (0..<4).map { magic.load(fromByteOffset: $0, as: UInt8.self) }
        guard magicBytes == [0x47, 0x47, 0x55, 0x46] else {
            let shown = magicBytes.allSatisfy { $0 >= 0x20 && $0 < 0x7f }
                ? "\"" + String(decoding: magicBytes, as: UTF8.self) + "\""
                : magicBytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
            throw CheckpointError.badMagic(path: path, found: shown)
        }
        let rawVersion = try c.u32("the header (version)")
        if rawVersion & 0xffff == 0, rawVersion.byteSwapped == 2 || rawVersion.byteSwapped == 3 {
            throw CheckpointError.unsupported(path: path, detail: "big-endian GGUF files are not supported; convert it on a little-endian machine")
        }
        guard rawVersion == 2 || rawVersion == 3 else {
            throw CheckpointError.unsupportedVersion(path: path, version: Int(rawVersion))
        }
        version = Int(rawVersion)
        // A tensor info takes at least 24 bytes, a metadata pair at least 8 + 4 + 1.
        let tensorCount = try c.count(unit: 24, "the header (tensor count)")
        let kvCount = try c.count(unit: 13, "the header (metadata count)")

        // Metadata.
        var metadata = [String: GGUFValue](minimumCapacity: kvCount)
        var keys = [String]()
        keys.reserveCapacity(kvCount)
        for i in 0..<kvCount {
            let key = try c.string("metadata key #\(i)")
            let type = try c.u32("the type of metadata key '\(key)'")
            let value = try c.value(type: type, key: key)
            guard metadata.updateValue(value, forKey: key) == nil else {
                throw CheckpointError.malformed(path: path, detail: "metadata key '\(key)' appears twice")
            }
            keys.append(key)
        }
        self.metadata = metadata
        metadataKeys = keys

        var alignment = 32
        if let a = metadata["general.alignment"] {
            guard let n = a.int, n > 0, n & (n - 1) == 0, n <= 1 << 30 else {
                throw CheckpointError.malformed(path: path, detail: "general.alignment is \(a), not a positive power of two")
            }
            alignment = n
        }
        self.alignment = alignment

        // Tensor infos.
        var infos = [TensorInfo]()
        var raw = [(type: GGMLType, offset: UInt64, byteCount: Int)]()
        var index = [String: Int](minimumCapacity: tensorCount)
        infos.reserveCapacity(tensorCount)
        raw.reserveCapacity(tensorCount)
        for i in 0..<tensorCount {
            let name = try c.string("the name of tensor info #\(i)")
            let what = "the tensor info of '\(name)'"
            let nDims = try c.u32(what)
            guard nDims <= 4 else {
                throw CheckpointError.shapeMismatch(path: path, tensor: name, detail: "has \(nDims) dimensions; GGUF allows at most 4")
            }
            var ne = [Int]()
            var elements = 1
            for _ in 0..<Int(nDims) {
                let n = try c.u64(what)
                guard n <= UInt64(Int.max), case let (p, false) = elements.multipliedReportingOverflow(by: Int(n)) else {
                    throw CheckpointError.shapeMismatch(path: path, tensor: name, detail: "extent \(n) makes the element count overflow")
                }
                ne.append(Int(n))
                elements = p
            }
            let typeNumber = try c.u32(what)
            let offset = try c.u64(what)
            guard let type = GGMLType(rawValue: Int(typeNumber)) else {
                throw CheckpointError.unknownTensorType(path: path, tensor: name, type: Int(typeNumber))
            }
            let ne0 = ne.first ?? 1
            guard ne0 % type.blockSize == 0 else {
                throw CheckpointError.shapeMismatch(path: path, tensor: name,
                    detail: "ne[0] = \(ne0) is not a multiple of \(type.name)'s block size \(type.blockSize)")
            }
            guard let bytes = type.byteCount(elements: elements) else {
                throw CheckpointError.shapeMismatch(path: path, tensor: name, detail: "its byte size overflows")
            }
            guard offset % UInt64(alignment) == 0 else {
                throw CheckpointError.malformed(path: path, detail: "tensor '\(name)' has data offset \(offset), not a multiple of the alignment \(alignment)")
            }
            guard index.updateValue(i, forKey: name) == nil else {
                throw CheckpointError.malformed(path: path, detail: "tensor '\(name)' appears twice")
            }
            infos.append(TensorInfo(name: name, encoding: type.name, shape: ne.reversed()))
            raw.append((type, offset, bytes))
        }

        // Data section: every tensor must lie inside the file.
        let dataOffset = (c.pos + alignment - 1) / alignment * alignment
        self.dataOffset = dataOffset
        var locations = [Location]()
        locations.reserveCapacity(tensorCount)
        for (i, r) in raw.enumerated() {
            let (start, o1) = dataOffset.addingReportingOverflow(Int(clamping: r.offset))
            let (end, o2) = start.addingReportingOverflow(r.byteCount)
            guard r.offset <= UInt64(Int.max), !o1, !o2, end <= file.count else {
                throw CheckpointError.dataOutOfBounds(path: path, tensor: infos[i].name,
                                                      end: (o1 || o2) ? Int.max : end, fileSize: file.count)
            }
            locations.append(Location(type: r.type, offset: start, byteCount: r.byteCount))
        }
        tensorInfos = infos
        self.locations = locations
        self.index = index
    }

    /// The tensor with this name, if present.
    public func info(_ name: String) -> TensorInfo? {
        index[name].map { tensorInfos[$0] }
    }

    /// The ggml storage type of the tensor with this name, if present.
    public func ggmlType(_ name: String) -> GGMLType? {
        index[name].map { locations[$0].type }
    }

    /// The tensor's stored bytes, in place in the mapping (valid while this `GGUFFile` lives).
    public func rawBytes(_ name: String) throws -> UnsafeRawBufferPointer {
        guard let i = index[name] else { throw CheckpointError.missingTensor(path: path, tensor: name) }
        let l = locations[i]
        guard let b = file.bytes(l.offset, l.byteCount) else {
            throw CheckpointError.dataOutOfBounds(path: path, tensor: name, end: l.offset + l.byteCount, fileSize: file.count)
        }
        return b
    }

    /// Dequantises the whole tensor to float32 into `out` (exactly `info.count` elements, row-major),
    /// splitting large tensors across two threads.
    public func readFloat32(_ name: String, into out: UnsafeMutableBufferPointer<Float>) throws {
        guard let i = index[name] else { throw CheckpointError.missingTensor(path: path, tensor: name) }
        let info = tensorInfos[i]
        let type = locations[i].type
        guard type.isDequantizable else {
            throw CheckpointError.unsupported(path: path,
                detail: "tensor '\(name)' has ggml type \(type.name.uppercased()) (\(type.rawValue)), which Pare cannot dequantise; it reads F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K")
        }
        guard out.count == info.count else {
            throw CheckpointError.shapeMismatch(path: path, tensor: name,
                detail: "has \(info.count) elements \(info.shape) but the destination holds \(out.count)")
        }
        let src = try rawBytes(name)
        GGMLDequantizer.run(type, src: src, dst: out, threads: info.count >= 1 << 16 ? 2 : 1)
    }
}
