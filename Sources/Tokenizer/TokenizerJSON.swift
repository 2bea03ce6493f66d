// Reading a Hugging Face tokenizer.json (byte-level BPE) into a BPEModel, with special-token roles.
import Foundation
import PareIR

/// Loader for Hugging Face `tokenizer.json` files of byte-level BPE models.
public struct TokenizerJSON {
    /// Reads `path` (and `tokenizer_config.json` beside it, when present, for the bos/eos/pad/unk roles).
    /// Throws `TokenizerError` naming the file and JSON path for malformed files, and for features Pare's
    /// tokenizer would not reproduce exactly (a normalizer, an unknown split pattern, byte fallback, ...).
    public static func load(path: String) throws -> (model: BPEModel, specials: [SpecialToken]) {
        let root = JSONCursor(value: try JSONParser.parse(try readFile(path), file: path), path: "$", file: path)
        let model = try bpeModel(root)
        let configPath = (path as NSString).deletingLastPathComponent + "/tokenizer_config.json"
        var config: JSONCursor?
        if FileManager.default.fileExists(atPath: configPath) {
            config = JSONCursor(value: try JSONParser.parse(try readFile(configPath), file: configPath),
                                path: "$", file: configPath)
        }
        return (model, try specialTokens(model, config: config))
    }

    static func readFile(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "not readable" : "no such file"
            throw TokenizerError.unreadable(file: path, reason: reason)
        }
        return [UInt8](data)
    }

    /// The BPE model of a parsed tokenizer.json.
    static func bpeModel(_ root: JSONCursor) throws -> BPEModel {
        let file = root.file
        let model = try root.require("model")
        let type = try model.string("type", default: "BPE")
        guard type == "BPE" else { throw TokenizerError.unsupported(file: file, path: model.path + ".type", what: "model type \(quoted(type)); only BPE") }
        try checkModelOptions(model)

        // Ids: the vocabulary and the added tokens together must number 0..<n, each id once.
        let vocab = try model.require("vocab")
        let members = try vocab.object()
        let addedItems = try root.field("added_tokens")?.items() ?? []
        var added: [(id: Int, content: String, special: Bool, path: String)] = []
        for item in addedItems {
            for flag in ["lstrip", "rstrip", "single_word"] where try item.bool(flag, default: false) {
                throw TokenizerError.unsupported(file: file, path: item.path + "." + flag, what: "added token option \(flag) = true")
            }
            added.append((try item.require("id").index(), try item.require("content").string(),
                          try item.bool("special", default: false), item.path))
        }
        var n = 0
        for (k, v) in members {
            // The cursor (and its path string) only when the entry is bad: this loop sees 150k entries.
            guard case let .number(d) = v, d >= 0, d < 2_147_483_648, d.rounded() == d else {
                _ = try JSONCursor(value: v, path: vocab.path + "[\(quoted(k))]", file: file).index()
                continue
            }
            n = max(n, Int(d) + 1)
        }
        for a in added { n = max(n, a.id + 1) }
        guard n <= 1 << 24 else { throw TokenizerError.malformed(file: file, path: vocab.path, reason: "token id \(n - 1) is implausibly large") }
        var slots = [String?](repeating: nil, count: n)
        var kinds = [TokenKind](repeating: .normal, count: n)
        for (k, v) in members {
            guard case let .number(d) = v else { continue }
            let id = Int(d)
            if let other = slots[id] {
                throw TokenizerError.malformed(file: file, path: vocab.path, reason: "id \(id) is given to both \(quoted(other)) and \(quoted(k))")
            }
            slots[id] = k
        }
        for a in added {
            if let existing = slots[a.id], existing != a.content {
                throw TokenizerError.malformed(file: file, path: a.path, reason: "added token \(quoted(a.content)) has id \(a.id), which the vocabulary gives to \(quoted(existing))")
            }
            slots[a.id] = a.content
            kinds[a.id] = a.special ? .control : .userDefined
        }
        var tokens: [String] = []
        tokens.reserveCapacity(n)
        for (id, s) in slots.enumerated() {
            guard let s else {
                throw TokenizerError.malformed(file: file, path: vocab.path, reason: "ids are not dense: no token has id \(id) (ids run to \(n - 1))")
            }
            tokens.append(s)
        }

        let mergeList = try model.require("merges")
        let merges = try mergeList.array().enumerated().map { i, item in
            try mergePair(item) { JSONCursor(value: item, path: "\(mergeList.path)[\(i)]", file: file) }
        }
        let pre = try preTokenizer(root)
        let ignoreMerges = try model.bool("ignore_merges", default: false)
        if ignoreMerges != (pre == .llama3) {
            throw TokenizerError.unsupported(file: file, path: model.path + ".ignore_merges",
                                             what: "ignore_merges = \(ignoreMerges) with the \(pre.rawValue) pre-tokenizer (Pare ties ignore_merges to llama3)")
        }
        return BPEModel(tokens: tokens, kinds: kinds, merges: merges, preTokenizer: pre.rawValue)
    }

    /// Options of the BPE model that change results and that Pare does not implement.
    static func checkModelOptions(_ model: JSONCursor) throws {
        let file = model.file
        if let d = try model.field("dropout"), case let .number(p) = d.value, p != 0 {
            throw TokenizerError.unsupported(file: file, path: d.path, what: "BPE dropout \(p)")
        }
        if try model.bool("byte_fallback", default: false) {
            throw TokenizerError.unsupported(file: file, path: model.path + ".byte_fallback", what: "byte fallback (not a byte-level BPE)")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            let v = try model.string(key, default: "")
            if !v.isEmpty { throw TokenizerError.unsupported(file: file, path: model.path + "." + key, what: "\(key) \(quoted(v))") }
        }
    }

    /// One merge rule: "left right" (one space) or ["left", "right"]; `cursor` makes the error's location.
    static func mergePair(_ item: JSONValue, _ cursor: () -> JSONCursor) throws -> (String, String) {
        switch item {
        case let .string(s):
            let parts = s.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw cursor().fail("expected \"left right\" with one space, found \(quoted(s))") }
            return (String(parts[0]), String(parts[1]))
        case let .array(pair):
            guard pair.count == 2, case let .string(a) = pair[0], case let .string(b) = pair[1] else {
                throw cursor().fail("expected a pair of token strings")
            }
            return (a, b)
        default:
            throw cursor().fail("expected a merge (\"left right\" or [left, right]), found \(item.typeName)")
        }
    }
}
