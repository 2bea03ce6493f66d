// A builder that appends ops to `forward` with fresh SSA values: how lifting and passes create IR.

/// Appends ops with fresh result values. `let h = b.op(.rmsNorm, [.value(x), .param(w)], ["eps": .float(1e-6)], block: 0, type: t)`.
public struct Builder {
    public private(set) var ops: [Op] = []
    public private(set) var next: Int

    /// Starts after the given first free value id.
    public init(firstValue: Int) { next = firstValue }

    /// Appends an op and returns its result value.
    @discardableResult
    public mutating func op(_ kind: OpKind, _ operands: [Operand], _ attributes: [String: Attribute] = [:],
                            block: Int? = nil, type: TensorType) -> Value {
        let v = Value(next)
        next += 1
        ops.append(Op(result: v, kind: kind, operands: operands, attributes: attributes, block: block, type: type))
        return v
    }
}
