// Recognising tokenizer.json's normalizer, pre-tokenizer and decoder as the pipelines Pare reproduces.
//
// Accepted pre-tokenizers (ByteLevel always without add_prefix_space):
//   ByteLevel(use_regex: true)                                  -> gpt2
//   Sequence[Split(Regex P, Isolated), ByteLevel(use_regex: false)] -> the pattern P names: gpt2, qwen2, llama3
//   Sequence[Digits(individual_digits: true), ByteLevel(use_regex: true)]      -> smollm
//   Sequence[Digits(individual_digits: true), Split(gpt2), ByteLevel(false)]   -> smollm

extension TokenizerJSON {
    /// One recognised pre-tokenizer step.
    private enum Step: Equatable {
        case digits
        case split(PreTokenizer)
        case byteLevel(useRegex: Bool)
    }

    /// The pre-tokenizer of a parsed tokenizer.json; also checks there is no normalizer and the decoder is ByteLevel.
    static func preTokenizer(_ root: JSONCursor) throws -> PreTokenizer {
        let file = root.file
        if let normalizer = try root.field("normalizer") {
            throw TokenizerError.unsupported(file: file, path: normalizer.path, what: "normalizer \(try typeName(normalizer))")
        }
        guard let decoder = try root.field("decoder") else {
            throw TokenizerError.unsupported(file: file, path: "$.decoder", what: "no decoder (Pare decodes byte-level BPE)")
        }
        let decoderType = try typeName(decoder)
        guard decoderType == "ByteLevel" else {
            throw TokenizerError.unsupported(file: file, path: decoder.path, what: "decoder \(decoderType); only ByteLevel")
        }

        let pre = try root.require("pre_tokenizer")
        let steps = try typeName(pre) == "Sequence" ? try pre.require("pretokenizers").items() : [pre]
        let parsed = try steps.map(step)
        if parsed == [.byteLevel(useRegex: true)] { return .gpt2 }
        if parsed.count == 2, case let .split(p) = parsed[0], parsed[1] == .byteLevel(useRegex: false) { return p }
        if parsed == [.digits, .byteLevel(useRegex: true)] || parsed == [.digits, .split(.gpt2), .byteLevel(useRegex: false)] {
            return .smollm
        }
        let names = try steps.map { try typeName($0) }.joined(separator: ", ")
        throw TokenizerError.unsupported(file: file, path: pre.path, what: "pre-tokenizer sequence [\(names)]")
    }

    private static func typeName(_ c: JSONCursor) throws -> String { try c.require("type").string() }

    private static func step(_ c: JSONCursor) throws -> Step {
        let file = c.file
        let type = try typeName(c)
        switch type {
        case "ByteLevel":
            // Hugging Face's default for add_prefix_space is true.
            if try c.bool("add_prefix_space", default: true) {
                throw TokenizerError.unsupported(file: file, path: c.path + ".add_prefix_space", what: "ByteLevel add_prefix_space = true")
            }
            return .byteLevel(useRegex: try c.bool("use_regex", default: true))
        case "Digits":
            guard try c.bool("individual_digits", default: false) else {
                throw TokenizerError.unsupported(file: file, path: c.path + ".individual_digits", what: "Digits without individual_digits")
            }
            return .digits
        case "Split":
            let pattern = try c.require("pattern")
            guard let regex = try pattern.field("Regex")?.string() else {
                throw TokenizerError.unsupported(file: file, path: pattern.path, what: "Split on a plain string; only the known regex patterns")
            }
            let behavior = try c.string("behavior", default: "")
            guard behavior == "Isolated", try !c.bool("invert", default: false) else {
                throw TokenizerError.unsupported(file: file, path: c.path, what: "Split behavior \(quoted(behavior)) (invert \(try c.bool("invert", default: false))); only Isolated")
            }
            guard let p = [PreTokenizer.gpt2, .qwen2, .llama3].first(where: { $0.pattern == regex }) else {
                throw TokenizerError.unsupported(file: file, path: pattern.path + ".Regex", what: "split pattern \(quoted(regex))")
            }
            return .split(p)
        default:
            throw TokenizerError.unsupported(file: file, path: c.path, what: "pre-tokenizer \(type)")
        }
    }
}
