// Materialising parameters: checkpoint tensors as float32 for the interpreter's weight store.
import PareCheckpoint
import PareIR
import PareInterpreter

/// Source tensors read from a checkpoint (GGUF or safetensors), dequantised to float32.
public final class CheckpointTensors: SourceTensorProvider {
    public let reader: TensorReader
    public init(reader: TensorReader) { self.reader = reader }

    public func sourceTensor(_ source: TensorSource) throws -> Tensor {
        guard let info = reader.info(source.tensor) else { throw LiftError.missingTensor(path: reader.path, tensor: source.tensor) }
        guard info.shape == source.shape else {
            throw LiftError.tensorShape(path: reader.path, tensor: source.tensor, expected: source.shape, found: info.shape)
        }
        return Tensor(shape: info.shape, data: try reader.readFloat32(source.tensor))
    }
}

/// Reads every parameter of `module` from `reader` and applies its views (each source tensor read once).
public func materializeWeights(_ module: Module, from reader: TensorReader) throws -> [String: Tensor] {
    try WeightStore(provider: CheckpointTensors(reader: reader)).weights(for: module)
}
