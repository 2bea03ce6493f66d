// A Hugging Face safetensors checkpoint (one file or an indexed set of shards) as a TensorReader.
import Foundation

/// The tensors of `model.safetensors`, or of the shards that `model.safetensors.index.json` lists.
///
/// Every header is parsed and validated when the checkpoint opens (dtypes, shapes, offsets, the index
/// against the shards); tensor data is read from the memory-mapped files only by `readFloat32`.
public final class SafetensorsCheckpoint: TensorReader {
    /// The directory.
    public let path: String
    /// Every tensor: shards in name order, each in data-section order.
    public let tensorInfos: [TensorInfo]
    /// The .safetensors files read, in the order of `tensorInfos`.
    public let files: [String]

    private struct Location {
        var shard: Int
        var entry: SafetensorsEntry
    }

    private let shards: [MappedFile]
    private let headers: [SafetensorsHeader]
    private let locations: [String: Location]

    /// The single-file name Hugging Face uses.
    public static let singleFileName = "model.safetensors"
    /// The index name of a sharded checkpoint.
    public static let indexFileName = "model.safetensors.index.json"

    /// Opens the checkpoint in `directory`: `model.safetensors` if present, else the shards named by
    /// `model.safetensors.index.json`.
    public init(directory: String) throws {
        path = directory
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw CheckpointError.cannotOpen(path: directory, reason: "no such directory")
        }
        let single = (directory as NSString).appendingPathComponent(Self.singleFileName)
        let indexPath = (directory as NSString).appendingPathComponent(Self.indexFileName)

        var shards: [MappedFile] = []
        var headers: [SafetensorsHeader] = []
        var infos: [TensorInfo] = []
        var locations: [String: Location] = [:]

        if FileManager.default.fileExists(atPath: single) {
            let file = try MappedFile(path: single)
            let header = try SafetensorsHeader(file: file)
            shards = [file]
            headers = [header]
            for e in header.entries {
                infos.append(TensorInfo(name: e.name, encoding: e.dtype.encoding ?? "", shape: e.shape))
                locations[e.name] = Location(shard: 0, entry: e)
            }
        } else if FileManager.default.fileExists(atPath: indexPath) {
            let index = try SafetensorsIndex(path: indexPath)
            for name in index.shardNames {
                let shardPath = (directory as NSString).appendingPathComponent(name)
                guard FileManager.default.fileExists(atPath: shardPath) else {
                    throw CheckpointError.cannotOpen(path: shardPath, reason:
                        "shard named in \(Self.indexFileName) does not exist")
                }
                let file = try MappedFile(path: shardPath)
                let header = try SafetensorsHeader(file: file)
                let s = shards.count
                shards.append(file)
                headers.append(header)
                // Only the tensors the index assigns to this shard; a stray copy elsewhere is ignored.
                for e in header.entries where index.weightMap[e.name] == name {
                    infos.append(TensorInfo(name: e.name, encoding: e.dtype.encoding ?? "", shape: e.shape))
                    locations[e.name] = Location(shard: s, entry: e)
                }
            }
            for (tensor, file) in index.weightMap.sorted(by: { $0.key < $1.key }) where locations[tensor] == nil {
                throw CheckpointError.missingTensor(path: (directory as NSString).appendingPathComponent(file), tensor: tensor)
            }
        } else {
            throw CheckpointError.cannotOpen(path: directory, reason:
                "no \(Self.singleFileName) and no \(Self.indexFileName): not a Hugging Face safetensors checkpoint")
        }
        self.shards = shards
        self.headers = headers
        self.locations = locations
        self.tensorInfos = infos
        self.files = shards.map(\.path)
    }

    /// The tensor with this name, if present.
    public func info(_ name: String) -> TensorInfo? {
        guard let l = locations[name] else { return nil }
        return TensorInfo(name: name, encoding: l.entry.dtype.encoding ?? "", shape: l.entry.shape)
    }

    /// The .safetensors file that holds `name`, if present.
    public func file(of name: String) -> String? {
        locations[name].map { shards[$0.shard].path }
    }

    /// The `__metadata__` of each file, in the order of `files`.
    public var metadata: [[String: String]] { headers.map(\.metadata) }

    /// Converts the whole tensor to float32 into `out`, which must hold exactly its element count.
    public func readFloat32(_ name: String, into out: UnsafeMutableBufferPointer<Float>) throws {
        guard let l = locations[name] else { throw CheckpointError.missingTensor(path: path, tensor: name) }
        let file = shards[l.shard]
        let e = l.entry
        let count = e.shape.reduce(1, *)
        guard out.count == count else {
            throw CheckpointError.shapeMismatch(path: file.path, tensor: name, detail:
                "destination holds \(out.count) floats but shape \(e.shape) has \(count)")
        }
        guard e.dtype.encoding != nil else {
            throw CheckpointError.unsupported(path: file.path, detail:
                "tensor '\(name)' has dtype \(e.dtype.rawValue); Pare reads \(SafetensorsDType.supportedNames)")
        }
        guard count > 0, let dst = out.baseAddress else { return }
        guard let bytes = file.bytes(headers[l.shard].dataStart + e.begin, e.end - e.begin), let src = bytes.baseAddress else {
            throw CheckpointError.dataOutOfBounds(path: file.path, tensor: name,
                                                  end: headers[l.shard].dataStart + e.end, fileSize: file.count)
        }
        SafetensorsConvert.toFloat32(e.dtype, from: src, to: dst, count: count)
    }
}
