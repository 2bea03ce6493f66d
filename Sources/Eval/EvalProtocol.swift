// The two ways HumanEval is put to a model, as the literature scores them:
//   codex: the raw prompt is completed greedily; the completion ends at the first stop sequence (Chen et al. 2021);
//   chat:  the model's own chat template wraps an instruction; the first fenced code block of the reply is the
//          solution (as instruction-tuned models are usually scored, e.g. EvalPlus).

/// How problems are put to the model and programs assembled from its answers.
public enum EvalProtocol: String, Codable, Sendable, CaseIterable {
    case codex, chat

    /// Codex's stop sequences: a new top-level statement ends the function.
    public static let codexStops = ["\nclass", "\ndef", "\n#", "\nif", "\nprint"]

    /// The instruction of the chat protocol; `{prompt}` is the problem's prompt.
    public static let chatInstruction = """
        Complete the following Python function. Reply with the complete function, including the imports it needs, \
        in one Python code block.

        ```python
        {prompt}
        ```
        """

    /// The stop sequences of this protocol (the chat protocol ends at the end-of-turn token instead).
    public var stops: [String] { self == .codex ? Self.codexStops : [] }

    /// The text the model reads for `problem`. Throws `EvalError.chatTemplate` for the chat protocol when the
    /// model has no chat template Pare can render.
    public func input(for problem: EvalProblem, chatTemplate: String?) throws -> String {
        switch self {
        case .codex: return problem.prompt
        case .chat:
            guard let chatTemplate else {
                throw EvalError.chatTemplate("the model carries no chat template (GGUF tokenizer.chat_template or tokenizer_config.json); use --protocol codex")
            }
            let format = try ChatFormat(template: chatTemplate)
            let user = Self.chatInstruction.replacingOccurrences(of: "{prompt}", with: problem.prompt.trimmingCharacters(in: .whitespacesAndNewlines))
            return format.render(user: user)
        }
    }

    /// The solution the model's output stands for: the completion itself (codex) or the first fenced code block
    /// of the reply, or the whole reply when it has none (chat).
    public func solution(from output: String) -> String {
        self == .codex ? output : firstCodeBlock(output) ?? output
    }

    /// The program that tests `solution`, then prints `marker` (the sandbox requires it, so an answer that exits
    /// early does not pass). Codex: prompt + completion. Chat: prompt, a newline, then the reply's code without its
    /// `if __name__ == "__main__":` blocks (a reply's own `unittest.main()` would exit before the tests): a reply
    /// that defines the entry point overrides the prompt's docstring-only function and keeps the prompt's imports and
    /// helpers (HumanEval/32, /38, /50 test with helpers the prompt defines); a reply with only a body continues it.
    public func program(for problem: EvalProblem, solution: String, marker: String) -> String {
        let body: String
        switch self {
        case .codex: body = problem.prompt + solution
        case .chat:
            let code = withoutMainGuards(solution)
            body = definesFunction(code, problem.entryPoint) ? problem.prompt + "\n" + code : problem.prompt + code
        }
        return body + "\n\n" + problem.test + "\n\ncheck(\(problem.entryPoint))\nprint(\(marker.debugDescription))\n"
    }
}

/// The body of the first fenced block (```python ... ``` or ``` ... ```); an unclosed fence runs to the end.
func firstCodeBlock(_ text: String) -> String? {
    guard let open = text.range(of: "```") else { return nil }
    let afterTag = text[open.upperBound...].firstIndex(of: "\n").map { text.index(after: $0) } ?? text.endIndex
    let rest = text[afterTag...]
    let close = rest.range(of: "```")?.lowerBound ?? rest.endIndex
    return String(rest[..<close])
}

/// True when `code` has a line `def NAME(` (at any indentation).
func definesFunction(_ code: String, _ name: String) -> Bool {
    code.split(separator: "\n").contains { $0.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix("def \(name)(") }
}

/// `code` without its top-level `if __name__ == ...:` blocks (the line and the indented or blank lines after it).
func withoutMainGuards(_ code: String) -> String {
    var out: [Substring] = []
    var skipping = false
    for line in code.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("if __name__") { skipping = true; continue }
        if skipping, line.isEmpty || line.first == " " || line.first == "\t" { continue }
        skipping = false
        out.append(line)
    }
    return out.joined(separator: "\n")
}
