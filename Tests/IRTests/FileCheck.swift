// A small FileCheck: matches `// CHECK:`, `CHECK-NEXT:`, `CHECK-SAME:`, `CHECK-NOT:` lines against a tool's output.
//
// Semantics (LLVM FileCheck's, restricted to single-line matches):
//   CHECK:      the pattern occurs at or after the end of the previous match.
//   CHECK-NEXT: the pattern occurs on the line right after the previous match's line.
//   CHECK-SAME: the pattern occurs on the previous match's line, after that match.
//   CHECK-NOT:  the pattern does not occur between the previous match and the next positive match (or the end).
// Patterns are literal text with `{{regex}}` blocks; a run of spaces matches any run of spaces. A directive line
// spelled `// CHECK...` that is none of these is an error, so a typo cannot silently disable a check.
import Foundation

struct FileCheck {
    enum Kind: String { case check = "CHECK", next = "CHECK-NEXT", same = "CHECK-SAME", not = "CHECK-NOT" }

    struct Directive {
        var kind: Kind
        var pattern: String
        /// 1-based line in the checks file.
        var line: Int
    }

    let file: String
    let directives: [Directive]
    /// Malformed directive lines.
    let errors: [String]

    /// Reads the directives from a checks file's text (lines whose trimmed text starts with `// CHECK`).
    init(checks text: String, file: String) {
        self.file = file
        var ds: [Directive] = [], errs: [String] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard line.hasPrefix("// CHECK") else { continue }
            let body = line.dropFirst(3)
            guard let colon = body.firstIndex(of: ":"), let kind = Kind(rawValue: String(body[..<colon])) else {
                errs.append("\(file):\(i + 1): error: unknown check directive '\(body.prefix { $0 != " " })'")
                continue
            }
            let pattern = body[body.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if pattern.isEmpty && kind != .not {
                errs.append("\(file):\(i + 1): error: \(kind.rawValue) has an empty pattern")
                continue
            }
            if (kind == .next || kind == .same) && ds.filter({ $0.kind != .not }).isEmpty {
                errs.append("\(file):\(i + 1): error: \(kind.rawValue) cannot be the first check")
                continue
            }
            ds.append(Directive(kind: kind, pattern: pattern, line: i + 1))
        }
        directives = ds
        errors = errs
    }

    /// A regex for a pattern: literal text, `{{...}}` as raw regex, spaces as ` +`.
    static func regex(_ pattern: String) throws -> NSRegularExpression {
        var out = ""
        var rest = Substring(pattern)
        while !rest.isEmpty {
            if rest.hasPrefix("{{"), let end = rest.range(of: "}}") {
                out += "(?:" + rest[rest.index(rest.startIndex, offsetBy: 2)..<end.lowerBound] + ")"
                rest = rest[end.upperBound...]
                continue
            }
            let next = rest.range(of: "{{")?.lowerBound ?? rest.endIndex
            let literal = NSRegularExpression.escapedPattern(for: String(rest[..<next]))
            out += literal.replacingOccurrences(of: #" +"#, with: " +", options: .regularExpression)
            rest = rest[next...]
        }
        return try NSRegularExpression(pattern: out)
    }

    /// First match of `re` in `line` within UTF-16 offsets `from..<to` (to the end if nil): (start, end).
    static func find(_ re: NSRegularExpression, in line: String, from: Int, to: Int? = nil) -> (Int, Int)? {
        let ns = line as NSString
        let end = min(to ?? ns.length, ns.length)
        guard from <= end, let m = re.firstMatch(in: line, range: NSRange(location: from, length: end - from)) else {
            return nil
        }
        return (m.range.location, m.range.location + m.range.length)
    }

    /// Checks `output`; returns one message per failure (empty when every directive holds).
    func run(on output: String) -> [String] {
        var failures = errors
        if directives.isEmpty && errors.isEmpty { return ["\(file): error: no CHECK directives found"] }
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // End of the previous match: (line, column); nil line before the first match.
        var lastLine: Int? = nil
        var col = 0
        var pendingNot: [(Directive, NSRegularExpression)] = []

        func fail(_ d: Directive, _ msg: String, near: Int?) {
            var s = "\(file):\(d.line): error: \(d.kind.rawValue): \(msg)\n  pattern: \(d.pattern)"
            if let near, near < lines.count { s += "\n  output line \(near + 1): \(lines[near])" }
            failures.append(s)
        }
        /// Checks pending CHECK-NOTs over the region from the previous match's end to (line, column), exclusive.
        func checkNots(upTo endLine: Int, _ endCol: Int) {
            for (d, re) in pendingNot {
                let startLine = lastLine ?? 0
                var l = startLine
                while l <= min(endLine, lines.count - 1) {
                    let from = l == lastLine ? col : 0
                    if FileCheck.find(re, in: lines[l], from: from, to: l == endLine ? endCol : nil) != nil {
                        fail(d, "excluded string found", near: l)
                        break
                    }
                    l += 1
                }
            }
            pendingNot = []
        }

        for d in directives {
            let re: NSRegularExpression
            do { re = try FileCheck.regex(d.pattern) } catch {
                fail(d, "invalid regex in pattern: \(error)", near: nil)
                continue
            }
            switch d.kind {
            case .not:
                pendingNot.append((d, re))
            case .check:
                var found: (Int, Int, Int)? = nil
                var l = lastLine ?? 0
                while l < lines.count {
                    if let (s, e) = FileCheck.find(re, in: lines[l], from: l == lastLine ? col : 0) { found = (l, s, e); break }
                    l += 1
                }
                guard let (fl, s, e) = found else {
                    fail(d, "expected string not found in output", near: lastLine ?? 0)
                    pendingNot = []
                    continue
                }
                checkNots(upTo: fl, s)
                lastLine = fl
                col = e
            case .next, .same:
                guard let prev = lastLine else { fail(d, "no previous match", near: nil); continue }
                let target = d.kind == .next ? prev + 1 : prev
                guard target < lines.count,
                      let (s, e) = FileCheck.find(re, in: lines[target], from: d.kind == .same ? col : 0) else {
                    fail(d, d.kind == .next ? "expected string not found on the line after the previous match"
                                            : "expected string not found on the same line after the previous match",
                         near: target)
                    pendingNot = []
                    continue
                }
                checkNots(upTo: target, s)
                lastLine = target
                col = e
            }
        }
        checkNots(upTo: lines.count, 0)
        return failures
    }
}
