// Special-token roles: bos/eos/pad/unk from tokenizer_config.json, fill-in-the-middle roles from the added tokens.
import PareIR

extension TokenizerJSON {
    /// Added-token texts that play a fill-in-the-middle role (llama.cpp's role names).
    static let fimRoles: [(role: String, texts: [String])] = [
        ("fim_pre", ["<|fim_prefix|>", "<fim_prefix>"]),
        ("fim_suf", ["<|fim_suffix|>", "<fim_suffix>"]),
        ("fim_mid", ["<|fim_middle|>", "<fim_middle>"]),
        ("fim_pad", ["<|fim_pad|>", "<fim_pad>"]),
        ("fim_rep", ["<|repo_name|>", "<repo_name>"]),
        ("fim_sep", ["<|file_sep|>", "<file_sep>"]),
    ]

    /// Roles in order: bos, eos, pad, unk (as the config names them), then the FIM roles present among
    /// the control and user-defined tokens.
    static func specialTokens(_ model: BPEModel, config: JSONCursor?) throws -> [SpecialToken] {
        var addedIds: [String: Int] = [:]
        for (id, kind) in model.kinds.enumerated() where kind == .control || kind == .userDefined {
            addedIds[model.tokens[id]] = addedIds[model.tokens[id]] ?? id
        }
        var specials: [SpecialToken] = []
        if let config {
            for role in ["bos", "eos", "pad", "unk"] {
                guard let entry = try config.field(role + "_token") else { continue }
                let text: String
                switch entry.value {
                case let .string(s): text = s
                case .object: text = try entry.require("content").string()
                default: throw entry.fail("expected a token string or an object with \"content\", found \(entry.value.typeName)")
                }
                guard let id = addedIds[text] ?? model.tokens.firstIndex(of: text) else {
                    throw entry.fail("token \(quoted(text)) is not in the vocabulary")
                }
                specials.append(SpecialToken(role: role, id: id, text: text))
            }
        }
        for (role, texts) in fimRoles {
            if let (text, id) = texts.lazy.compactMap({ t in addedIds[t].map { (t, $0) } }).first {
                specials.append(SpecialToken(role: role, id: id, text: text))
            }
        }
        return specials
    }
}
