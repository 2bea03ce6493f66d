// The byte-level BPE tokenizer: checked tables built once from a BPEModel, then encode and decode.
import PareIR

/// A byte-level BPE tokenizer that reproduces Hugging Face `tokenizers` for Pare's vocabularies:
/// added tokens first, then the pre-tokenizer split, the byte-to-unicode mapping and BPE by merge rank.
/// No normalizer, no BOS or other post-processing.
public struct BPETokenizer: Sendable {
    /// Token strings in byte-to-unicode form, by id.
    let tokens: [String]
    let kinds: [TokenKind]
    /// The split pattern.
    public let preTokenizer: PreTokenizer
    /// Llama 3: a piece that is itself a token is not merged (Hugging Face's `ignore_merges`).
    let ignoreMerges: Bool
    let ids: [String: Int32]
    let merges: MergeTable
    /// byte -> id of its one-character token, -1 if the vocabulary lacks it. [256]
    let byteIds: [Int32]
    /// Control and user-defined tokens, matched in raw text before anything else.
    let added: AddedTokenMatcher
    /// What each token decodes to: bytes decodeBytes[decodeStart[id] ..< decodeStart[id + 1]]. [count + 1]
    let decodeStart: [Int]
    let decodeBytes: [UInt8]

    /// Builds the tables; throws if the model is inconsistent (unknown pre-tokenizer, a token string
    /// used twice, a merge naming an unknown token or making one).
    public init(model: BPEModel) throws {
        guard model.tokens.count == model.kinds.count else {
            throw TokenizerError.kindCountMismatch(tokens: model.tokens.count, kinds: model.kinds.count)
        }
        preTokenizer = try PreTokenizer(name: model.preTokenizer)
        ignoreMerges = preTokenizer == .llama3
        tokens = model.tokens
        kinds = model.kinds

        var ids: [String: Int32] = [:]
        ids.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() {
            if let first = ids.updateValue(Int32(i), forKey: t) {
                throw TokenizerError.duplicateToken(token: t, firstId: Int(first), secondId: i)
            }
        }
        self.ids = ids

        // Later duplicates of a rule replace earlier ones, as in Hugging Face's merge map.
        var table = MergeTable()
        table.rules.reserveCapacity(model.merges.count)
        for (rank, (a, b)) in model.merges.enumerated() {
            guard let ia = ids[a] else { throw TokenizerError.mergeTokenUnknown(rank: rank, token: a) }
            guard let ib = ids[b] else { throw TokenizerError.mergeTokenUnknown(rank: rank, token: b) }
            guard let merged = ids[a + b] else { throw TokenizerError.mergeResultUnknown(rank: rank, left: a, right: b) }
            table.rules[MergeTable.key(ia, ib)] = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: merged))
        }
        merges = table

        byteIds = (0..<256).map { b in ids[ByteLevel.encode(bytes: [UInt8(b)])] ?? -1 }

        var matcher = AddedTokenMatcher()
        for (i, kind) in kinds.enumerated() where kind == .control || kind == .userDefined {
            matcher.insert(tokens[i], id: i)
        }
        added = matcher

        // Hugging Face's ByteLevel decoder: a token all of whose characters are in the byte alphabet
        // stands for those bytes; any other token (e.g. an added token with a space) for its own UTF-8.
        var start = [0]
        var bytes: [UInt8] = []
        start.reserveCapacity(tokens.count + 1)
        bytes.reserveCapacity(tokens.count * 6)
        for t in tokens {
            if let raw = ByteLevel.decode(t) { bytes += raw } else { bytes += Array(t.utf8) }
            start.append(bytes.count)
        }
        decodeStart = start
        decodeBytes = bytes
    }

    /// Number of token ids.
    public var count: Int { tokens.count }

    /// The token string (byte-to-unicode form; added tokens as written) of an id, nil if out of range.
    public func tokenString(_ id: Int) -> String? {
        tokens.indices.contains(id) ? tokens[id] : nil
    }

    /// The kind of an id's token, nil if out of range.
    public func kind(_ id: Int) -> TokenKind? {
        kinds.indices.contains(id) ? kinds[id] : nil
    }

    /// The id of a token string in byte-to-unicode form (e.g. `Ġhello` for " hello"), if in the vocabulary.
    public func id(of token: String) -> Int? {
        ids[token].map(Int.init)
    }
}
