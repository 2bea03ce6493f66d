// Pipeline strings: `vocab-prune{corpus=data/corpus/code.txt},layer-prune{count=3},ffn-prune{drop=256}`,
// parsed with located errors, then resolved against the pass registry into passes with validated options.
//
// Grammar (whitespace, including newlines, is allowed around every token):
//   pipeline := 'none' | '' | element (',' element)*
//   element  := name ('{' (option (',' option)*)? '}')?
//   option   := key '=' value
//   value    := '"' (char | '\"' | '\\')* '"' | bare      bare: up to the next ',' or '}', trailing spaces dropped
//   name, key := [A-Za-z0-9_.-]+
import Foundation

/// A place in a pipeline string, 1-based (`pipeline:1:27`).
public struct PipelineLocation: Sendable, Hashable, CustomStringConvertible {
    /// Line, from 1 (pipelines are usually one line).
    public var line: Int
    /// Column in characters, from 1.
    public var column: Int

    /// Creates a location.
    public init(line: Int = 1, column: Int) {
        self.line = line
        self.column = column
    }

    /// `1:27`.
    public var description: String { "\(line):\(column)" }
}

/// One pass of a parsed pipeline: its name, its options as written, and where each was written.
public struct PipelineElement: Sendable, Equatable {
    /// Where an option's key and value start.
    public struct OptionLocation: Sendable, Equatable {
        /// The key's first character.
        public var key: PipelineLocation
        /// The value's first character (the opening quote of a quoted value).
        public var value: PipelineLocation

        /// Creates a location pair.
        public init(key: PipelineLocation, value: PipelineLocation) {
            self.key = key
            self.value = value
        }
    }

    /// The pass name as written: `layer-prune`.
    public var name: String
    /// Option values by key, unquoted.
    public var options: [String: String]
    /// Where the name starts.
    public var location: PipelineLocation
    /// Where each option was written, by key.
    public var optionLocations: [String: OptionLocation]
    /// The keys in the order they were written.
    public var optionOrder: [String]

    /// The name's column (1-based).
    public var column: Int { location.column }
}

/// A pipeline string that does not parse, or names a pass or option that does not exist or is out of range.
/// Printed like a compiler diagnostic, with the pipeline and a caret under the place:
/// `pipeline:1:27: error: unknown option 'cout' for layer-prune; it accepts: count, kl-budget, criterion`.
public struct PipelineError: Error, LocalizedError, Sendable, Equatable {
    /// Where the problem is.
    public var location: PipelineLocation
    /// What is wrong and what would be accepted.
    public var message: String
    /// The pipeline text, for the excerpt under the message.
    public var text: String

    /// Creates an error at `location` of `text`.
    public init(_ message: String, at location: PipelineLocation, in text: String) {
        self.message = message
        self.location = location
        self.text = text
    }

    /// The column (1-based).
    public var column: Int { location.column }

    /// `pipeline:L:C: error: message`, then the offending line and a caret.
    public var errorDescription: String? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var s = "pipeline:\(location): error: \(message)"
        if location.line >= 1 && location.line <= lines.count {
            let line = lines[location.line - 1]
            s += "\n  " + line + "\n  " + String(repeating: " ", count: max(0, location.column - 1)) + "^"
        }
        return s
    }
}

/// A pass ready to run: the instance, its validated options, and how it was spelled.
public struct ScheduledPass {
    /// The pass.
    public var pass: any Pass
    /// Its options (explicit values only; getters fall back to defaults).
    public var options: PassOptions
    /// The explicit options as a pipeline would spell them: `count=3,criterion=kl` (empty when none).
    public var optionsSpelling: String

    /// Schedules `pass` with `options`.
    public init(_ pass: any Pass, options: PassOptions? = nil) {
        self.pass = pass
        let o = options ?? (try? PassOptions([:], specs: [], pass: pass.name))
        self.options = o ?? PassOptions.empty
        self.optionsSpelling = spellOptions(self.options.values)
    }

    /// `layer-prune{count=3}` or `dce`.
    public var spelling: String { optionsSpelling.isEmpty ? pass.name : "\(pass.name){\(optionsSpelling)}" }
}

extension PassOptions {
    /// No options, no specs.
    static var empty: PassOptions {
        // Cannot fail: there is nothing to validate.
        (try? PassOptions([:], specs: [], pass: "")) ?? { preconditionFailure("empty PassOptions") }()
    }
}

/// `count=3,corpus="a,b.txt"`: options sorted by key, values quoted when they hold `,`, `{`, `}`, `"`, `\`,
/// or surrounding spaces, so the spelling parses back to the same values.
public func spellOptions(_ values: [String: String]) -> String {
    values.keys.sorted().map { k in
        let v = values[k] ?? ""
        let needsQuotes = v.isEmpty || v.contains(where: { ",{}\"\\".contains($0) }) || v.first?.isWhitespace == true
            || v.last?.isWhitespace == true
        guard needsQuotes else { return "\(k)=\(v)" }
        return "\(k)=\"" + v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }.joined(separator: ",")
}

/// A parsed pipeline string.
public struct Pipeline: Sendable, Equatable {
    /// The text as given.
    public var text: String
    /// The passes in order (empty for `none` or an empty string).
    public var elements: [PipelineElement]

    /// Parses `text`; throws `PipelineError` at the first problem.
    public init(parsing text: String) throws {
        self.text = text
        var p = PipelineParser(text)
        elements = try p.parse()
    }

    /// Resolves every element against `registry`: the pass must exist, every option must be one it declares,
    /// each value must be valid for its kind and range, and the pass must accept the combination. Errors point
    /// at the pass name, the option key or the value.
    public func resolve(in registry: PassRegistry = .standard) throws -> [ScheduledPass] {
        try elements.map { try resolve($0, in: registry) }
    }

    private func error(_ message: String, _ at: PipelineLocation) -> PipelineError { PipelineError(message, at: at, in: text) }

    private func resolve(_ e: PipelineElement, in registry: PassRegistry) throws -> ScheduledPass {
        guard let entry = registry.entry(named: e.name) else {
            var message = "unknown pass '\(e.name)'"
            if let near = closest(to: e.name, in: registry.names) { message += "; did you mean '\(near)'?" }
            message += registry.names.isEmpty ? "; no passes are registered" : "; known passes: " + registry.names.joined(separator: ", ")
            throw error(message, e.location)
        }
        let accepted = entry.options.map(\.name)
        for key in e.optionOrder {
            let at = e.optionLocations[key] ?? PipelineElement.OptionLocation(key: e.location, value: e.location)
            guard let spec = entry.options.first(where: { $0.name == key }) else {
                var message = "unknown option '\(key)' for \(e.name)"
                if accepted.isEmpty {
                    message += "; it accepts no options"
                } else {
                    if let near = closest(to: key, in: accepted) { message += " (did you mean '\(near)'?)" }
                    message += "; it accepts: " + accepted.joined(separator: ", ")
                }
                throw error(message, at.key)
            }
            if let problem = spec.validate(e.options[key] ?? "") { throw error("\(e.name): \(problem)", at.value) }
        }
        let options: PassOptions
        do {
            options = try PassOptions(e.options, specs: entry.options, pass: e.name)
        } catch {
            throw self.error(error.localizedDescription, e.location)
        }
        do {
            return ScheduledPass(try entry.make(options), options: options)
        } catch PassError.badOption(let pass, let option, let message) {
            throw error("\(pass): \(message)", e.optionLocations[option]?.key ?? e.location)
        } catch {
            throw self.error("\(e.name): \(error.localizedDescription)", e.location)
        }
    }
}

/// The name within edit distance 2 of `word` (the closest; ties go to the first), if any.
func closest(to word: String, in names: [String]) -> String? {
    let w = Array(word)
    let scored = names.filter { $0 != word }.map { ($0, editDistance(w, Array($0))) }.filter { $0.1 <= 2 }
    return scored.min { $0.1 < $1.1 }?.0
}

/// Levenshtein distance (insertions, deletions, substitutions).
func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var prev = Array(0...b.count)
    for i in 1...a.count {
        var cur = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        prev = cur
    }
    return prev[b.count]
}

/// The pipeline grammar's recursive-descent parser over characters.
private struct PipelineParser {
    let text: String
    let chars: [Character]
    /// Location of each character, plus one past the end.
    let locations: [PipelineLocation]
    var i = 0

    init(_ text: String) {
        self.text = text
        chars = Array(text)
        var locs: [PipelineLocation] = []
        var line = 1, col = 1
        for c in chars {
            locs.append(PipelineLocation(line: line, column: col))
            if c == "\n" { line += 1; col = 1 } else { col += 1 }
        }
        locs.append(PipelineLocation(line: line, column: col))
        locations = locs
    }

    var atEnd: Bool { i >= chars.count }
    var current: Character? { atEnd ? nil : chars[i] }

    func loc(_ at: Int) -> PipelineLocation { locations[min(at, locations.count - 1)] }
    func error(_ message: String, _ at: Int) -> PipelineError { PipelineError(message, at: loc(at), in: text) }

    /// `'x'` for a character, `the end of the pipeline` at the end.
    var found: String {
        guard let c = current else { return "the end of the pipeline" }
        return c == "\n" ? "a line break" : "'\(c)'"
    }

    mutating func skipSpace() { while let c = current, c.isWhitespace { i += 1 } }

    static func isNameChar(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == "_" || c == ".")
    }

    mutating func word() -> String {
        let start = i
        while let c = current, Self.isNameChar(c) { i += 1 }
        return String(chars[start..<i])
    }

    mutating func parse() throws -> [PipelineElement] {
        skipSpace()
        if atEnd { return [] }
        if text.trimmingCharacters(in: .whitespacesAndNewlines) == "none" { return [] }
        var out: [PipelineElement] = []
        while true {
            out.append(try element())
            skipSpace()
            if atEnd { return out }
            guard current == "," else {
                if current == "{" { throw error("\(out.last?.name ?? "this pass") already has its options; expected ',' before the next pass", i) }
                throw error("expected ',' between passes, found \(found)", i)
            }
            let comma = i
            i += 1
            skipSpace()
            if atEnd { throw error("trailing ',' after the last pass; remove it or add a pass after it", comma) }
        }
    }

    mutating func element() throws -> PipelineElement {
        let start = i
        let name = word()
        guard !name.isEmpty else {
            if current == "," { throw error("expected a pass name before ','; two ',' in a row or a leading ','", i) }
            throw error("expected a pass name (like dce or layer-prune), found \(found)", i)
        }
        if name == "none" {
            throw error("'none' means an empty pipeline and cannot be combined with passes", start)
        }
        var e = PipelineElement(name: name, options: [:], location: loc(start), optionLocations: [:], optionOrder: [])
        skipSpace()
        guard current == "{" else { return e }
        let open = i
        i += 1
        skipSpace()
        if current == "}" { i += 1; return e }
        while true {
            skipSpace()
            if atEnd { throw missingBrace(name, open) }
            let keyAt = i
            let key = word()
            guard !key.isEmpty else {
                if current == "}" || current == "," { throw error("expected an option name in the options of \(name), found \(found)", i) }
                throw error("expected an option name (like count=3) in the options of \(name), found \(found)", i)
            }
            skipSpace()
            if current == "{" {
                throw error("missing '}' to close the options of \(name) (opened at column \(loc(open).column)) before '\(key)'", keyAt)
            }
            if atEnd { throw missingBrace(name, open) }
            guard current == "=" else {
                if current == "," || current == "}" { throw error("option '\(key)' of \(name) has no value; write \(key)=VALUE", i) }
                throw error("expected '=' after option '\(key)' of \(name), found \(found)", i)
            }
            i += 1
            skipSpace()
            let valueAt = i
            let value = try self.value(key: key, pass: name, open: open)
            guard !value.isEmpty else { throw error("empty value for option '\(key)' of \(name)", valueAt) }
            if let first = e.optionLocations[key] {
                throw error("duplicate option '\(key)' for \(name) (first given at column \(first.key.column))", keyAt)
            }
            e.options[key] = value
            e.optionLocations[key] = .init(key: loc(keyAt), value: loc(valueAt))
            e.optionOrder.append(key)
            skipSpace()
            if atEnd { throw missingBrace(name, open) }
            if current == "}" { i += 1; return e }
            guard current == "," else {
                throw error("expected ',' or '}' after the value of option '\(key)' of \(name), found \(found)", i)
            }
            let comma = i
            i += 1
            skipSpace()
            if current == "}" { throw error("trailing ',' in the options of \(name); remove it or add an option", comma) }
        }
    }

    func missingBrace(_ name: String, _ open: Int) -> PipelineError {
        error("missing '}' to close the options of \(name) (opened at column \(loc(open).column))", chars.count)
    }

    /// A quoted or bare value; the cursor is on its first character.
    mutating func value(key: String, pass: String, open: Int) throws -> String {
        if current == "\"" {
            let quote = i
            i += 1
            var out = ""
            while let c = current {
                i += 1
                if c == "\"" { return out }
                if c == "\\" {
                    guard let n = current, n == "\"" || n == "\\" else {
                        throw error("unknown escape in the quoted value of option '\(key)'; only \\\" and \\\\ are allowed", i - 1)
                    }
                    out.append(n)
                    i += 1
                } else {
                    out.append(c)
                }
            }
            throw error("unterminated quoted value for option '\(key)' of \(pass) (the quote opened at column \(loc(quote).column))", chars.count)
        }
        let start = i
        while let c = current, c != ",", c != "}" {
            if c == "{" || c == "\"" {
                throw error("'\(c)' in the value of option '\(key)' of \(pass); quote the whole value: \(key)=\"...\"", i)
            }
            i += 1
        }
        var v = String(chars[start..<i])
        while v.last?.isWhitespace == true { v.removeLast() }
        return v
    }
}
