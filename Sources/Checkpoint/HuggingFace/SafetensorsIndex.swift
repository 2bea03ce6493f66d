// Reads model.safetensors.index.json: which shard file holds each tensor.
import Foundation

/// The `weight_map` of a sharded Hugging Face checkpoint, validated.
struct SafetensorsIndex {
    /// Tensor name -> shard file name (a plain file name inside the directory).
    var weightMap: [String: String]
    /// The shard file names, sorted.
    var shardNames: [String]

    private struct Raw: Decodable {
        var weightMap: [String: String]
        enum CodingKeys: String, CodingKey { case weightMap = "weight_map" }
    }

    init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError.cannotOpen(path: path, reason: "cannot read the file")
        }
        let raw: Raw
        do {
            raw = try JSONDecoder().decode(Raw.self, from: data)
        } catch let error as DecodingError {
            throw CheckpointError.malformed(path: path, detail: describeDecodingError(error, data: data))
        }
        guard !raw.weightMap.isEmpty else {
            throw CheckpointError.malformed(path: path, detail: "'weight_map' is empty: it names no tensor")
        }
        for (tensor, file) in raw.weightMap {
            guard !file.isEmpty, !file.contains("/"), file != ".", file != ".." else {
                throw CheckpointError.malformed(path: path, detail:
                    "'weight_map' maps tensor '\(tensor)' to '\(file)', which is not a file name in this directory")
            }
        }
        weightMap = raw.weightMap
        shardNames = Set(raw.weightMap.values).sorted()
    }
}
