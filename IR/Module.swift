// The module: metadata, per-block dims, parameters, vocabulary and the one function `forward`.

/// The dims of one transformer block. After pruning, blocks differ: nothing may assume a global config.
public struct BlockDims: Sendable, Hashable {
    public var index: Int
    public var hidden: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    /// The FFN channel shared by gate, up and down.
    public var ffn: Int

    public init(index: Int, hidden: Int, heads: Int, kvHeads: Int, headDim: Int, ffn: Int) {
        self.index = index
        self.hidden = hidden
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.ffn = ffn
    }
}

/// The function `forward(%tokens: tensor<?xi32>) -> tensor<?xVxf32>`: straight-line SSA.
public struct Function: Sendable, Hashable {
    public var name: String
    /// Arguments in order; `forward` has one, the token ids.
    public var arguments: [(name: String, value: Value, type: TensorType)]
    public var ops: [Op]
    /// The returned value (the logits).
    public var result: Value

    public init(name: String = "forward", arguments: [(name: String, value: Value, type: TensorType)], ops: [Op], result: Value) {
        self.name = name
        self.arguments = arguments
        self.ops = ops
        self.result = result
    }

    public static func == (a: Function, b: Function) -> Bool {
        a.name == b.name && a.ops == b.ops && a.result == b.result && a.arguments.count == b.arguments.count
            && zip(a.arguments, b.arguments).allSatisfy { $0.name == $1.name && $0.value == $1.value && $0.type == $1.type }
    }
    public func hash(into h: inout Hasher) { h.combine(name); h.combine(ops); h.combine(result) }

    /// The type of a value (argument or op result), if defined.
    public func type(of v: Value) -> TensorType? {
        if let a = arguments.first(where: { $0.value == v }) { return a.type }
        return ops.first { $0.result == v }?.type
    }

    /// The next unused value id.
    public var nextValueID: Int {
        max(arguments.map(\.value.id).max() ?? -1, ops.map(\.result.id).max() ?? -1) + 1
    }
}

/// A Pare IR module.
public struct Module: Sendable, Hashable {
    /// Module name (the model's name).
    public var name: String
    /// Ordered key/value metadata: `architecture`, `source.format`, `source.path`, `source.sha256`,
    /// hyper-parameters, and the record of every pruning decision. Printed in insertion order.
    public var metadata: [(key: String, value: Attribute)]
    public var blocks: [BlockDims]
    /// Parameters in declaration order.
    public var parameters: [Parameter]
    public var vocabulary: Vocabulary
    public var function: Function

    public init(name: String, metadata: [(key: String, value: Attribute)], blocks: [BlockDims],
                parameters: [Parameter], vocabulary: Vocabulary, function: Function) {
        self.name = name
        self.metadata = metadata
        self.blocks = blocks
        self.parameters = parameters
        self.vocabulary = vocabulary
        self.function = function
    }

    public static func == (a: Module, b: Module) -> Bool {
        a.name == b.name && a.blocks == b.blocks && a.parameters == b.parameters && a.vocabulary == b.vocabulary
            && a.function == b.function && a.metadata.count == b.metadata.count
            && zip(a.metadata, b.metadata).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
    public func hash(into h: inout Hasher) { h.combine(name); h.combine(parameters); h.combine(function) }

    /// The metadata value for a key, if present.
    public subscript(meta key: String) -> Attribute? {
        get { metadata.first { $0.key == key }?.value }
        set {
            if let i = metadata.firstIndex(where: { $0.key == key }) {
                if let v = newValue { metadata[i].value = v } else { metadata.remove(at: i) }
            } else if let v = newValue {
                metadata.append((key, v))
            }
        }
    }

    /// The parameter with this name, if declared.
    public func parameter(_ name: String) -> Parameter? { parameters.first { $0.name == name } }

    /// The dims of block `i`, if declared.
    public func block(_ i: Int) -> BlockDims? { blocks.first { $0.index == i } }

    /// Total scalars over all parameters (a tied table counts once).
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
}

/// Well-known metadata keys.
public enum MetaKey {
    public static let architecture = "architecture"
    public static let sourceFormat = "source.format"
    public static let sourcePath = "source.path"
    public static let sourceSHA256 = "source.sha256"
    /// The checkpoint's chat template (Jinja text), when it has one; plans carry it for chat prompts.
    public static let chatTemplate = "chat_template"
}
