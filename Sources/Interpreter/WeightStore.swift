// Materialised weights, cached: source tensors are read once, and each (source, view chain) is built once,
// so the many candidate modules a pruning pass evaluates share every weight they have in common.
import Foundation
import PareIR

/// Reads a checkpoint tensor as float32, in its stored shape. Implemented over the checkpoint readers.
public protocol SourceTensorProvider: AnyObject {
    /// The whole tensor `source.tensor`, float32, shape `source.shape`.
    func sourceTensor(_ source: TensorSource) throws -> Tensor
}

/// A cache of materialised parameters keyed by source tensor and view chain.
public final class WeightStore {
    let provider: SourceTensorProvider
    private var sources: [String: Tensor] = [:]
    private var viewed: [Key: Tensor] = [:]
    private let lock = NSLock()

    struct Key: Hashable {
        var tensor: String
        var views: [ParameterView]
    }

    public init(provider: SourceTensorProvider) { self.provider = provider }

    /// The parameter's tensor: its source tensor with its views applied, shape checked against the IR.
    public func tensor(for p: Parameter) throws -> Tensor {
        let key = Key(tensor: p.source.tensor, views: p.views)
        if let t = lock.withLock({ viewed[key] }) { return t }
        var t: Tensor
        if let s = lock.withLock({ sources[p.source.tensor] }) { t = s } else {
            t = try provider.sourceTensor(p.source)
            guard t.shape == p.source.shape else {
                throw InterpreterError.weightShape(name: p.source.tensor, expected: p.source.shape, found: t.shape)
            }
            lock.withLock { sources[p.source.tensor] = t }
        }
        for v in p.views { t = try v.apply(to: t, parameter: p.name) }
        guard t.shape == p.shape else { throw InterpreterError.weightShape(name: p.name, expected: p.shape, found: t.shape) }
        lock.withLock { viewed[key] = t }
        return t
    }

    /// Every parameter of a module, by name.
    public func weights(for m: Module) throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for p in m.parameters { out[p.name] = try tensor(for: p) }
        return out
    }

    /// Drops cached view results (not source tensors): call between passes to bound memory.
    public func dropViews() { lock.withLock { viewed.removeAll() } }
}
