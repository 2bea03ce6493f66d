// The rewriter: the only way passes change a module (replace uses, erase, insert, update), with change tracking.
import Foundation

/// A misuse of the rewriter API; names the value or parameter involved.
public enum RewriteError: Error, LocalizedError, Equatable, Sendable {
    /// No op defines this value.
    case noSuchOp(Value)
    /// The op cannot be erased while other ops (or the return) still read its result.
    case stillUsed(Value, users: Int)
    /// The parameter cannot be removed while ops still read it.
    case parameterStillUsed(String, users: Int)
    /// No parameter has this name.
    case noSuchParameter(String)
    /// An inserted op's result is already defined.
    case valueAlreadyDefined(Value)
    /// `updateOp` may change anything but the result value.
    case resultChanged(Value)

    public var errorDescription: String? {
        switch self {
        case .noSuchOp(let v): return "rewriter: no op defines \(v)"
        case .stillUsed(let v, let n): return "rewriter: cannot erase the op defining \(v): it still has \(n) use\(n == 1 ? "" : "s")"
        case .parameterStillUsed(let p, let n):
            return "rewriter: cannot remove parameter @\(spellName(p)): \(n) op\(n == 1 ? "" : "s") or packed parameter view\(n == 1 ? "" : "s") still read it"
        case .noSuchParameter(let p): return "rewriter: no parameter @\(spellName(p)) is declared"
        case .valueAlreadyDefined(let v): return "rewriter: cannot insert an op defining \(v): the value is already defined"
        case .resultChanged(let v): return "rewriter: updateOp must not change the result value of the op defining \(v)"
        }
    }
}

/// Wraps a module while a pass rewrites it. Every mutation goes through here, so `changed` is exact and the
/// pass manager can verify, print or KL-check after a change. `var r = Rewriter(m); try pass.run(&r); r.module`.
public struct Rewriter {
    /// The module as rewritten so far.
    public private(set) var module: Module
    /// True once any mutation actually changed the module.
    public private(set) var changed = false
    private var nextValue: Int

    /// Starts rewriting `module`.
    public init(_ module: Module) {
        self.module = module
        nextValue = module.function.nextValueID
    }

    // MARK: Queries

    /// The ops in order.
    public var ops: [Op] { module.function.ops }

    /// The position of the op defining `v`, if an op does.
    public func index(of v: Value) -> Int? { module.function.ops.firstIndex { $0.result == v } }

    /// The op defining `v`, if an op does (arguments have none).
    public func definingOp(of v: Value) -> Op? { index(of: v).map { module.function.ops[$0] } }

    /// The ops that read `v`, in order (an op reading it twice appears once).
    public func uses(of v: Value) -> [Op] { module.function.ops.filter { $0.operands.contains(.value(v)) } }

    /// True if `v` is read by some op or returned.
    public func isUsed(_ v: Value) -> Bool { module.function.result == v || !uses(of: v).isEmpty }

    /// The ops that read parameter `name`, in order.
    public func users(ofParameter name: String) -> [Op] { module.function.ops.filter { $0.operands.contains(.param(name)) } }

    /// A value id no op or argument uses yet, for an op to insert.
    public mutating func newValue() -> Value {
        defer { nextValue += 1 }
        return Value(nextValue)
    }

    // MARK: Ops

    /// Makes every op operand and the return that read `old` read `new` instead. Returns how many operands
    /// (and the return) changed.
    @discardableResult
    public mutating func replaceAllUses(of old: Value, with new: Value) -> Int {
        guard old != new else { return 0 }
        var n = 0
        for i in module.function.ops.indices {
            for j in module.function.ops[i].operands.indices where module.function.ops[i].operands[j] == .value(old) {
                module.function.ops[i].operands[j] = .value(new)
                n += 1
            }
        }
        if module.function.result == old {
            module.function.result = new
            n += 1
        }
        if n > 0 { changed = true }
        return n
    }

    /// Erases the op defining `v`. Throws if `v` is still read or returned: replace its uses first.
    public mutating func erase(_ v: Value) throws {
        guard let i = index(of: v) else { throw RewriteError.noSuchOp(v) }
        let n = uses(of: v).count + (module.function.result == v ? 1 : 0)
        guard n == 0 else { throw RewriteError.stillUsed(v, users: n) }
        module.function.ops.remove(at: i)
        changed = true
    }

    /// Inserts `op` before the op defining `before`, or at the end when `before` is nil.
    /// The op's result must be fresh (`newValue()`).
    public mutating func insert(_ op: Op, before: Value?) throws {
        guard index(of: op.result) == nil, !module.function.arguments.contains(where: { $0.value == op.result }) else {
            throw RewriteError.valueAlreadyDefined(op.result)
        }
        var at = module.function.ops.count
        if let before {
            guard let i = index(of: before) else { throw RewriteError.noSuchOp(before) }
            at = i
        }
        module.function.ops.insert(op, at: at)
        nextValue = max(nextValue, op.result.id + 1)
        changed = true
    }

    /// Creates an op with a fresh result and inserts it before the op defining `before` (or at the end).
    @discardableResult
    public mutating func insert(_ kind: OpKind, _ operands: [Operand], _ attributes: [String: Attribute] = [:],
                                block: Int? = nil, type: TensorType, before: Value?) throws -> Value {
        let v = newValue()
        try insert(Op(result: v, kind: kind, operands: operands, attributes: attributes, block: block, type: type),
                   before: before)
        return v
    }

    /// Changes the op defining `v` in place (operands, attributes, block, type); its result value stays.
    public mutating func updateOp(_ v: Value, _ body: (inout Op) throws -> Void) throws {
        guard let i = index(of: v) else { throw RewriteError.noSuchOp(v) }
        var op = module.function.ops[i]
        try body(&op)
        guard op.result == v else { throw RewriteError.resultChanged(v) }
        if op != module.function.ops[i] || op.location != module.function.ops[i].location {
            module.function.ops[i] = op
            changed = true
        }
    }

    // MARK: Module parts

    /// Declares a parameter, replacing the one with the same name in place, or appending it.
    public mutating func setParameter(_ p: Parameter) {
        if let i = module.parameters.firstIndex(where: { $0.name == p.name }) {
            guard module.parameters[i] != p else { return }
            module.parameters[i] = p
        } else {
            module.parameters.append(p)
        }
        changed = true
    }

    /// Removes the parameter named `name` (every declaration of it). Throws if an op, or another parameter's view
    /// (`append_rows`, `scale_cols`), still reads it.
    public mutating func removeParameter(_ name: String) throws {
        guard module.parameters.contains(where: { $0.name == name }) else { throw RewriteError.noSuchParameter(name) }
        let n = users(ofParameter: name).count + module.parameters.filter { $0.references.contains(name) }.count
        guard n == 0 else { throw RewriteError.parameterStillUsed(name, users: n) }
        module.parameters.removeAll { $0.name == name }
        changed = true
    }

    /// Replaces the block table.
    public mutating func setBlocks(_ blocks: [BlockDims]) {
        guard blocks != module.blocks else { return }
        module.blocks = blocks
        changed = true
    }

    /// Sets (or with nil removes) a metadata entry; a new key goes last, an existing one keeps its place.
    public mutating func setMetadata(key: String, value: Attribute?) {
        guard module[meta: key] != value else { return }
        module[meta: key] = value
        changed = true
    }

    /// Replaces the vocabulary.
    public mutating func setVocabulary(_ v: Vocabulary) {
        guard v != module.vocabulary || v.bpe != module.vocabulary.bpe else { return }
        module.vocabulary = v
        changed = true
    }
}
