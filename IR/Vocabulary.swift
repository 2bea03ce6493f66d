// The vocabulary as a typed object: a byte-level BPE model, its special tokens, and the id map pruning leaves.

/// The kind of a vocabulary entry, as GGUF's `tokenizer.ggml.token_type` and tokenizer.json's added tokens say.
public enum TokenKind: String, Sendable, Hashable {
    case normal, control, userDefined = "user_defined", byte, unused, unknown
}

/// A role a special token plays: `bos`, `eos`, `pad`, `unk`, ...
public struct SpecialToken: Sendable, Hashable {
    /// `bos`, `eos`, `pad`, `unk`, `eot`, ...
    public var role: String
    /// Token id in this module's vocabulary (remapped when the vocabulary is pruned).
    public var id: Int
    public var text: String
    public init(role: String, id: Int, text: String) {
        self.role = role
        self.id = id
        self.text = text
    }
}

/// A byte-level BPE model: the tables the tokenizer runs on. Loaded from the checkpoint; never printed.
public struct BPEModel: Sendable, Equatable {
    /// Token strings in byte-to-unicode form (GPT-2's mapping), indexed by id.
    public var tokens: [String]
    public var kinds: [TokenKind]
    /// Merge rules in rank order, as (left, right) token strings.
    public var merges: [(String, String)]
    /// The pre-tokenizer split pattern's name: `gpt2`, `smollm`, `qwen2`, `llama3`.
    public var preTokenizer: String

    public init(tokens: [String], kinds: [TokenKind], merges: [(String, String)], preTokenizer: String) {
        self.tokens = tokens
        self.kinds = kinds
        self.merges = merges
        self.preTokenizer = preTokenizer
    }

    public static func == (a: BPEModel, b: BPEModel) -> Bool {
        a.tokens == b.tokens && a.kinds == b.kinds && a.preTokenizer == b.preTokenizer
            && a.merges.count == b.merges.count && zip(a.merges, b.merges).allSatisfy { $0 == $1 }
    }
}

/// The module's vocabulary. What prints (and so what round-trips through text) is its declaration: size,
/// pre-tokenizer, special tokens, and after pruning the id map and source size; the BPE tables are loaded from the
/// source checkpoint.
public struct Vocabulary: Sendable, Hashable {
    /// `bpe` (byte-level BPE); the only model Pare supports today.
    public var model: String
    /// Number of token ids (rows of the embedding and the LM head).
    public var size: Int
    public var mergeCount: Int
    public var preTokenizer: String
    /// Special tokens by role, ids in this vocabulary.
    public var specials: [SpecialToken]
    /// After pruning: new id -> id in the source vocabulary, strictly increasing. Nil means identity.
    public var idMap: IndexList?
    /// After pruning: the number of ids in the source checkpoint's vocabulary, the range of `idMap` (given exactly
    /// when `idMap` is, and unchanged by pruning again). Nil means this is the source vocabulary.
    public var sourceSize: Int?
    /// The BPE tables, when loaded. Not part of equality or the printed form.
    public var bpe: BPEModel?

    public init(model: String = "bpe", size: Int, mergeCount: Int, preTokenizer: String,
                specials: [SpecialToken], idMap: IndexList? = nil, sourceSize: Int? = nil, bpe: BPEModel? = nil) {
        self.model = model
        self.size = size
        self.mergeCount = mergeCount
        self.preTokenizer = preTokenizer
        self.specials = specials
        self.idMap = idMap
        self.sourceSize = sourceSize
        self.bpe = bpe
    }

    /// The number of ids in the source checkpoint's vocabulary: `sourceSize` after pruning, else `size`.
    public var originalSize: Int { sourceSize ?? size }

    /// The id of the special token with this role, if any.
    public func special(_ role: String) -> Int? { specials.first { $0.role == role }?.id }

    public static func == (a: Vocabulary, b: Vocabulary) -> Bool {
        a.model == b.model && a.size == b.size && a.mergeCount == b.mergeCount && a.preTokenizer == b.preTokenizer
            && a.specials == b.specials && a.idMap == b.idMap && a.sourceSize == b.sourceSize
    }

    public func hash(into h: inout Hasher) {
        h.combine(model); h.combine(size); h.combine(mergeCount); h.combine(preTokenizer)
        h.combine(specials); h.combine(idMap); h.combine(sourceSize)
    }
}
