// A Hugging Face model directory: config.json, safetensors weights and tokenizer.json, checked together.
import Foundation

/// An opened Hugging Face directory. Opening it reads and checks config.json, locates tokenizer.json
/// (parsing it is the tokenizer's job), opens the safetensors checkpoint, and checks that every tensor the
/// config implies is present with the right shape.
public struct HFDirectory: Sendable {
    /// The directory.
    public let path: String
    /// config.json as written.
    public let config: HFConfig
    /// The checked hyper-parameters (`config.modelConfig(name:)`).
    public let modelConfig: ModelConfig
    /// The weights.
    public let checkpoint: SafetensorsCheckpoint
    /// `<path>/tokenizer.json` (exists).
    public let tokenizerPath: String
    /// `<path>/tokenizer_config.json`, when present.
    public let tokenizerConfigPath: String?

    /// Opens `path`. `name` defaults to the directory's last path component.
    public init(path: String, name: String? = nil) throws {
        self.path = path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
            throw CheckpointError.cannotOpen(path: path, reason: "no such directory")
        }
        let dir = path as NSString
        config = try HFConfig.load(path: dir.appendingPathComponent("config.json"))
        modelConfig = try config.modelConfig(name: name ?? dir.lastPathComponent)

        let tokenizer = dir.appendingPathComponent("tokenizer.json")
        guard FileManager.default.fileExists(atPath: tokenizer) else {
            throw CheckpointError.cannotOpen(path: tokenizer, reason:
                "no such file (a Hugging Face directory needs tokenizer.json; copy it from the original model)")
        }
        tokenizerPath = tokenizer
        let tokenizerConfig = dir.appendingPathComponent("tokenizer_config.json")
        tokenizerConfigPath = FileManager.default.fileExists(atPath: tokenizerConfig) ? tokenizerConfig : nil

        checkpoint = try SafetensorsCheckpoint(directory: path)
        try Self.checkTensors(checkpoint, against: modelConfig, configPath: config.path)
    }

    /// Every tensor the config implies must exist with the implied shape.
    static func checkTensors(_ ckpt: SafetensorsCheckpoint, against m: ModelConfig, configPath: String) throws {
        for (name, shape) in HFTensorName.expectedTensors(for: m) {
            guard let info = ckpt.info(name) else {
                throw CheckpointError.missingTensor(path: ckpt.path, tensor: name + " (implied by \(configPath))")
            }
            guard info.shape == shape else {
                throw CheckpointError.shapeMismatch(path: ckpt.file(of: name) ?? ckpt.path, tensor: name, detail:
                    "shape is \(info.shape) but \(configPath) implies \(shape)")
            }
        }
    }
}
