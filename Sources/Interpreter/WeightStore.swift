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

    /// A parameter's definition: its source tensor, its views, and the definitions of the parameters they read.
    struct Key: Hashable {
        var tensor: String
        var views: [ParameterView]
        var references: [Key]
    }

    func key(_ p: Parameter, _ resolve: (String) -> Parameter?) -> Key {
        Key(tensor: p.source.tensor, views: p.views,
            references: p.references.compactMap { resolve($0).map { key($0, { _ in nil }) } })
    }

    public init(provider: SourceTensorProvider) { self.provider = provider }

    /// The parameter's tensor: its source tensor with its views applied, shape checked against the IR.
    /// `resolve` finds the parameters that `append_rows` and `scale_cols` views read (the module's own).
    public func tensor(for p: Parameter, resolve: (String) -> Parameter? = { _ in nil }) throws -> Tensor {
        let key = key(p, resolve)
        if let t = lock.withLock({ viewed[key] }) { return t }
        var t: Tensor
        if let s = lock.withLock({ sources[p.source.tensor] }) { t = s } else {
            t = try provider.sourceTensor(p.source)
            guard t.shape == p.source.shape else {
                throw InterpreterError.weightShape(name: p.source.tensor, expected: p.source.shape, found: t.shape)
            }
            lock.withLock { sources[p.source.tensor] = t }
        }
        for v in p.views {
            t = try v.apply(to: t, parameter: p.name) { name in
                guard let q = resolve(name) else { throw InterpreterError.missingWeight(name) }
                return try tensor(for: q)
            }
        }
        guard t.shape == p.shape else { throw InterpreterError.weightShape(name: p.name, expected: p.shape, found: t.shape) }
        lock.withLock { viewed[key] = t }
        return t
    }

    /// Every parameter a module's ops read, by name.
    public func weights(for m: Module) throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        let byName = Dictionary(m.parameters.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        // Only what ops read: a lowered module still declares the parameters its packed ones are built from.
        let used = Set(m.function.ops.flatMap(\.paramOperands))
        for p in m.parameters where used.contains(p.name) || used.isEmpty {
            out[p.name] = try tensor(for: p, resolve: { byName[$0] })
        }
        return out
    }

    /// Drops cached view results (not source tensors): call between passes to bound memory.
    public func dropViews() { lock.withLock { viewed.removeAll() } }
}
