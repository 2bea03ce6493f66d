// Ops: the mid-level, LLM-shaped instructions of `forward`, in SSA form.

/// An SSA value: the result of one op or a function argument. Printed `%N` (renumbered in order) or `%name`.
public struct Value: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var id: Int
    public init(_ id: Int) { self.id = id }
    public static func < (a: Value, b: Value) -> Bool { a.id < b.id }
    public var description: String { "%v\(id)" }
}

/// What an op consumes: an SSA value or a parameter symbol.
public enum Operand: Sendable, Hashable {
    case value(Value)
    case param(String)

    public var value: Value? { if case .value(let v) = self { return v }; return nil }
    public var param: String? { if case .param(let p) = self { return p }; return nil }
}

/// The op kinds. Each is documented in docs/IR.md with its operands, attributes and semantics.
public enum OpKind: String, Sendable, Hashable, CaseIterable {
    /// `embed @table, %tokens` -> rows of the table: `[?] i32` -> `[?, hidden]`.
    case embed
    /// `rms_norm %x, @weight {eps}`: `x / sqrt(mean(x^2) + eps) * weight` per row.
    case rmsNorm = "rms_norm"
    /// `linear %x, @weight[, @bias]`: `x W^T (+ b)`, weight `[out, in]`.
    case linear
    /// `rope %x {heads, head_dim, theta}`: rotary embedding, Hugging Face half-split convention, positions 0..n-1.
    case rope
    /// `attention %q, %k, %v {heads, kv_heads, head_dim, kv_slot}`: causal grouped-query attention, scale 1/sqrt(head_dim).
    case attention
    /// `silu %x`: `x * sigmoid(x)`.
    case silu
    /// `mul %a, %b`: elementwise product.
    case mul
    /// `add %a, %b`: elementwise sum.
    case add

    // Lowered ops: what the lowering passes fuse the ops above into (docs/IR.md, "Lowered ops").

    /// `qkv_rope %x, @w[, @b] {heads, kv_heads, head_dim, theta[, eps]}`: one product with the q, k and v rows packed
    /// in `@w` (`[(heads + 2·kv_heads)·head_dim, in]`), plus bias, then rope on the q and k parts.
    /// With `eps`, `x` is RMS-normalised first (the norm's weight is folded into `@w`'s columns).
    case qkvRope = "qkv_rope"
    /// `attention_qkv %qkv {heads, kv_heads, head_dim, kv_slot}`: `attention` reading q, k, v from one packed value.
    case attentionQKV = "attention_qkv"
    /// `swiglu %x, @w[ {eps}]`: `silu(x Wg^T) * (x Wu^T)` with gate rows then up rows packed in `@w` (`[2·ffn, in]`).
    case swiglu

    /// True for the ops that read and append to a KV cache slot (`kv_slot`).
    public var isAttention: Bool { self == .attention || self == .attentionQKV }
}

/// Where an op came from in IR text, for diagnostics.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }
    public var description: String { "\(file):\(line):\(column)" }
}

/// One op: `%3 = linear %2, @blk.0.attn_q.weight, @blk.0.attn_q.bias block 0 : tensor<?x896xf32>`.
public struct Op: Sendable, Hashable {
    public var result: Value
    public var kind: OpKind
    public var operands: [Operand]
    /// Attributes by name; printed sorted by name.
    public var attributes: [String: Attribute]
    /// The transformer block (layer) this op belongs to; nil for the embedding and the final norm and head.
    public var block: Int?
    public var type: TensorType
    /// Where the op was parsed from, if it was. Not part of equality.
    public var location: SourceLocation?

    public init(result: Value, kind: OpKind, operands: [Operand], attributes: [String: Attribute] = [:],
                block: Int? = nil, type: TensorType, location: SourceLocation? = nil) {
        self.result = result
        self.kind = kind
        self.operands = operands
        self.attributes = attributes
        self.block = block
        self.type = type
        self.location = location
    }

    public static func == (a: Op, b: Op) -> Bool {
        a.result == b.result && a.kind == b.kind && a.operands == b.operands && a.attributes == b.attributes
            && a.block == b.block && a.type == b.type
    }
    public func hash(into h: inout Hasher) {
        h.combine(result); h.combine(kind); h.combine(operands); h.combine(block); h.combine(type)
    }

    /// Integer attribute, if present.
    public func int(_ name: String) -> Int? { attributes[name]?.intValue }
    /// Floating-point attribute (ints widen), if present.
    public func double(_ name: String) -> Double? { attributes[name]?.doubleValue }
    /// The SSA values this op reads.
    public var valueOperands: [Value] { operands.compactMap(\.value) }
    /// The parameters this op reads.
    public var paramOperands: [String] { operands.compactMap(\.param) }
}
