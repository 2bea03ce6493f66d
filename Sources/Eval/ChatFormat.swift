// Rendering a chat template. Pare does not evaluate Jinja: it recognises the template families it supports and
// renders one system and one user turn followed by the assistant's turn, as the template would. ChatML
// (`<|im_start|>role\n...<|im_end|>\n`: Qwen2, SmolLM2) is the one family so far; its default system message is
// taken from the template text, where templates write it as a string literal for conversations without one.

/// A recognised chat template.
public struct ChatFormat: Sendable, Equatable {
    /// The system message a conversation without one gets, if the template adds one.
    public var defaultSystem: String?

    /// Recognises `template`. Throws `EvalError.chatTemplate` naming what it found when the family is unknown.
    public init(template: String) throws {
        guard template.contains("<|im_start|>") else {
            let head = template.prefix(80).debugDescription
            throw EvalError.chatTemplate("Pare renders ChatML templates (<|im_start|>role ... <|im_end|>); this model's template starts \(head): use --protocol codex")
        }
        defaultSystem = Self.systemLiteral(in: template)
    }

    /// The literal default system message: the text between `<|im_start|>system` plus a newline (written `\n` inside
    /// a Jinja string literal) and the next `<|im_end|>`, when it holds no template syntax or quote.
    static func systemLiteral(in template: String) -> String? {
        for newline in ["\\n", "\n"] {
            let open = "<|im_start|>system" + newline
            var search = template.startIndex..<template.endIndex
            while let r = template.range(of: open, range: search) {
                if let end = template.range(of: "<|im_end|>", range: r.upperBound..<template.endIndex) {
                    let text = template[r.upperBound..<end.lowerBound]
                    if !text.isEmpty, !text.contains(where: { "{}'\"%".contains($0) }) {
                        return text.replacingOccurrences(of: "\\n", with: "\n")
                    }
                }
                search = r.upperBound..<template.endIndex
            }
        }
        return nil
    }

    /// The conversation [system (the default, if any), user] with the assistant's turn opened.
    public func render(user: String) -> String {
        var s = ""
        if let defaultSystem { s += "<|im_start|>system\n\(defaultSystem)<|im_end|>\n" }
        return s + "<|im_start|>user\n\(user)<|im_end|>\n<|im_start|>assistant\n"
    }
}
