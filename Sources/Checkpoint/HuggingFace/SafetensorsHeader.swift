// Parses and validates the header of one .safetensors file: layout, JSON, dtypes, shapes and offsets.
//
// A safetensors file is
//   [8 bytes: N, little-endian u64] [N bytes: JSON header] [data section]
// and the header maps each tensor name to {dtype, shape, data_offsets: [begin, end]} (offsets relative to
// the start of the data section), plus an optional "__metadata__" object of string -> string.
import Foundation

/// One tensor as a safetensors header describes it, after validation.
public struct SafetensorsEntry: Sendable, Hashable {
    /// The header key.
    public var name: String
    /// Element type (always one with an `encoding` after validation).
    public var dtype: SafetensorsDType
    /// Outermost first, as in the header.
    public var shape: [Int]
    /// Byte range `[begin, end)` relative to the start of the data section.
    public var begin: Int
    /// End of the byte range (exclusive).
    public var end: Int
}

/// The validated header of one .safetensors file.
public struct SafetensorsHeader: Sendable {
    /// The file, for messages.
    public var path: String
    /// File offset of the data section (8 + header length).
    public var dataStart: Int
    /// Bytes in the data section.
    public var dataSize: Int
    /// Tensors in data-section order.
    public var entries: [SafetensorsEntry]
    /// The `__metadata__` object (empty when absent).
    public var metadata: [String: String]

    /// Largest header Pare accepts; the reference implementation uses the same limit.
    public static let maxHeaderBytes = 100 << 20

    /// Parses the header of `file` and checks every entry against the data section.
    public init(file: MappedFile) throws {
        let path = file.path
        guard let lengthBytes = file.bytes(0, 8) else {
            throw CheckpointError.truncated(path: path, what: "the 8-byte header length (file has \(file.count) bytes)")
        }
        let n = lengthBytes.loadUnaligned(as: UInt64.self).littleEndian
        guard n > 0, n <= UInt64(Self.maxHeaderBytes) else {
            throw CheckpointError.malformed(path: path, detail:
                "header length \(n) is not plausible (expected 1 to \(Self.maxHeaderBytes) bytes); not a safetensors file?")
        }
        let headerLength = Int(n)
        guard let headerBytes = file.bytes(8, headerLength) else {
            throw CheckpointError.truncated(path: path, what:
                "the JSON header (its length says \(headerLength) bytes, but only \(file.count - 8) follow)")
        }
        let json = Data(headerBytes)
        let raw: RawHeader
        do {
            raw = try JSONDecoder().decode(RawHeader.self, from: json)
        } catch let error as DecodingError {
            throw CheckpointError.malformed(path: path, detail: "header: " + describeDecodingError(error, data: json))
        } catch {
            throw CheckpointError.malformed(path: path, detail: "header is not valid JSON: \(error.localizedDescription)")
        }
        let dataStart = 8 + headerLength
        let dataSize = file.count - dataStart
        var entries = try raw.tensors.map { try Self.validate($0, path: path, dataStart: dataStart, dataSize: dataSize) }
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        for (a, b) in zip(entries, entries.dropFirst()) where b.begin < a.end {
            throw CheckpointError.malformed(path: path, detail:
                "tensors '\(a.name)' [\(a.begin), \(a.end)) and '\(b.name)' [\(b.begin), \(b.end)) overlap in the data section")
        }
        self.path = path
        self.dataStart = dataStart
        self.dataSize = dataSize
        self.entries = entries
        metadata = raw.metadata
    }

    private static func validate(_ t: RawTensor, path: String, dataStart: Int, dataSize: Int) throws -> SafetensorsEntry {
        guard let dtype = SafetensorsDType(rawValue: t.dtype) else {
            throw CheckpointError.unsupported(path: path, detail:
                "tensor '\(t.name)' has unknown dtype '\(t.dtype)'; Pare reads \(SafetensorsDType.supportedNames)")
        }
        guard t.offsets.count == 2 else {
            throw CheckpointError.malformed(path: path, detail:
                "tensor '\(t.name)': data_offsets must be [begin, end], found \(t.offsets.count) numbers")
        }
        let (begin, end) = (t.offsets[0], t.offsets[1])
        guard begin >= 0, begin <= end else {
            throw CheckpointError.malformed(path: path, detail: "tensor '\(t.name)': data_offsets [\(begin), \(end)] are not ordered")
        }
        guard end <= dataSize else {
            throw CheckpointError.dataOutOfBounds(path: path, tensor: t.name, end: dataStart + end, fileSize: dataStart + dataSize)
        }
        var bytes = dtype.size
        for d in t.shape {
            guard d >= 0 else {
                throw CheckpointError.shapeMismatch(path: path, tensor: t.name, detail: "shape \(t.shape) has a negative dimension")
            }
            let (p, overflow) = bytes.multipliedReportingOverflow(by: d)
            guard !overflow else {
                throw CheckpointError.shapeMismatch(path: path, tensor: t.name, detail: "shape \(t.shape) is too large")
            }
            bytes = p
        }
        guard end - begin == bytes else {
            throw CheckpointError.shapeMismatch(path: path, tensor: t.name, detail:
                "shape \(t.shape) of \(dtype.rawValue) needs \(bytes) bytes, but data_offsets [\(begin), \(end)] span \(end - begin)")
        }
        guard dtype.encoding != nil else {
            throw CheckpointError.unsupported(path: path, detail:
                "tensor '\(t.name)' has dtype \(dtype.rawValue); Pare reads \(SafetensorsDType.supportedNames)")
        }
        return SafetensorsEntry(name: t.name, dtype: dtype, shape: t.shape, begin: begin, end: end)
    }
}

// MARK: - The header JSON, decoded strictly.

/// The header object: tensor entries under arbitrary names, plus `__metadata__`.
private struct RawHeader: Decodable {
    var tensors: [RawTensor] = []
    var metadata: [String: String] = [:]

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: HFJSONKey.self)
        for key in c.allKeys {
            if key.stringValue == "__metadata__" {
                metadata = try c.decode([String: String].self, forKey: key)
            } else {
                var t = try c.decode(RawTensor.self, forKey: key)
                t.name = key.stringValue
                tensors.append(t)
            }
        }
    }
}

/// One tensor entry as written.
private struct RawTensor: Decodable {
    var name = ""
    var dtype: String
    var shape: [Int]
    var offsets: [Int]

    enum CodingKeys: String, CodingKey {
        case dtype, shape
        case offsets = "data_offsets"
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dtype = try c.decode(String.self, forKey: .dtype)
        shape = try c.decodeIntegers(forKey: .shape)
        offsets = try c.decodeIntegers(forKey: .offsets)
    }
}
