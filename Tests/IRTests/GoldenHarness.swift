// Runs one golden `.pir` file: its `// RUN:` action, its expected diagnostics, its CHECK lines, and its round trip.
//
// A golden file is IR text plus directive comments:
//   // RUN: roundtrip | verify | <pass>     the action (exactly one RUN line; any registered pass name,
//                                          optionally with options: `ffn-prune{drop=4,strategy=top}`)
//   // CHECK: ... (and -NEXT, -SAME, -NOT)  checked against the action's output by FileCheck
//   // expected-error@+1 {{text}}           an error whose message contains `text`, on the line 1 below
//   // expected-warning@-2 {{text}}         likewise for warnings (and expected-note for notes)
//   // TOKENIZER: tok.json                  a tokenizer.json in the file's folder whose BPE tables are set on the
//                                          parsed module before a pass runs (parsed IR text carries none); for a
//                                          pruned module, the source's tables restricted through its id map, as
//                                          loading a .pir does
// `%S` in the RUN line stands for the golden file's folder, as in LLVM lit: `vocab-prune{corpus=%S/corpus.txt}`.
// The diagnostics the verifier produces must be exactly the expected ones. Comment lines before the `// pare ir v1`
// header describe the test. From the header on, with directive lines removed, the text must equal what the printer
// prints for it (print(parse(t)) == t), so every golden file is canonical.
import Foundation
import PareIR
import ParePasses
import PareTokenizer

struct GoldenFile {
    struct Expectation: Equatable {
        var severity: Diagnostic.Severity
        var line: Int
        var message: String
    }

    let name: String
    let text: String
    var action: String?
    /// The `// TOKENIZER:` file name, relative to the golden file's folder.
    var tokenizer: String?
    var expectations: [Expectation] = []
    /// The IR text without directive lines: what the printer must reproduce.
    var irText = ""
    var errors: [String] = []

    init(name: String, text: String) {
        self.name = name
        self.text = text
        var kept: [Substring] = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let expectRE = try! NSRegularExpression(pattern: #"// expected-(error|warning|note)(@(\+\d+|-\d+))?\s*\{\{(.*)\}\}\s*$"#)
        for (i, raw) in lines.enumerated() {
            let trimmed = raw.trimmingCharacters(in: .whitespaces)
            let s = String(raw)
            if trimmed.hasPrefix("// RUN:") {
                if action != nil { errors.append("\(name):\(i + 1): error: second RUN line") }
                action = trimmed.dropFirst("// RUN:".count).trimmingCharacters(in: .whitespaces)
                continue
            }
            if trimmed.hasPrefix("// TOKENIZER:") {
                tokenizer = trimmed.dropFirst("// TOKENIZER:".count).trimmingCharacters(in: .whitespaces)
                continue
            }
            if trimmed.hasPrefix("// CHECK") { continue }
            if let r = s.range(of: "// expected-") {
                let ns = s as NSString
                guard let m = expectRE.firstMatch(in: s, range: NSRange(location: 0, length: ns.length)) else {
                    errors.append("\(name):\(i + 1): error: malformed expected-diagnostic directive")
                    continue
                }
                let sev = Diagnostic.Severity(rawValue: ns.substring(with: m.range(at: 1)))!
                let offset = m.range(at: 3).location == NSNotFound ? 0 : Int(ns.substring(with: m.range(at: 3)))!
                expectations.append(Expectation(severity: sev, line: i + 1 + offset, message: ns.substring(with: m.range(at: 4))))
                let before = s[..<r.lowerBound]
                if before.trimmingCharacters(in: .whitespaces).isEmpty { continue }  // a directive line
                kept.append(Substring(before.replacingOccurrences(of: #"\s+$"#, with: "", options: .regularExpression)))
                continue
            }
            kept.append(raw)
        }
        if let header = kept.firstIndex(where: { $0 == Substring(irTextHeader) }) { kept.removeFirst(header) }
        irText = kept.joined(separator: "\n")
        if action == nil { errors.append("\(name): error: no '// RUN:' line") }
    }
}

enum GoldenRunner {
    /// Every failure of one golden file; empty when it passes.
    static func run(_ g: GoldenFile) -> [String] {
        var failures = g.errors
        guard let written = g.action else { return failures }
        let folder = goldenRoot.appendingPathComponent(g.name).deletingLastPathComponent().path
        let action = written.replacingOccurrences(of: "%S", with: folder)
        var pass: (any Pass)?
        if !["roundtrip", "verify"].contains(action) {
            switch makePass(action) {
            case .success(let p): pass = p
            case .failure(let error):
                return failures + ["\(g.name): error: RUN action '\(action)' is not roundtrip, verify or one pass: "
                                   + error.localizedDescription]
            }
        }

        var diagnostics: [Diagnostic] = []
        var module: Module?
        var output = ""
        do {
            let (m, map) = try parseModuleWithSourceMap(g.text, file: g.name)
            module = m
            diagnostics = verify(m, sourceMap: map)
        } catch let e as IRParseError {
            diagnostics = [e.diagnostic]
        } catch {
            return failures + ["\(g.name): error: unexpected error \(error)"]
        }
        failures += match(diagnostics, g.expectations, file: g.name)

        if let m = module {
            let printed = printModule(m)
            if printed != g.irText {
                failures.append("\(g.name): error: the file is not in canonical form (print(parse(t)) != t); "
                                + "first difference:\n" + firstDifference(g.irText, printed))
            }
            if let again = try? parseModule(printed, file: g.name) {
                if again != m.canonicalized() { failures.append("\(g.name): error: parse(print(m)) != m") }
                if printModule(again) != printed { failures.append("\(g.name): error: print(parse(print(m))) != print(m)") }
            } else {
                failures.append("\(g.name): error: the printed module does not parse")
            }
        }

        switch action {
        case "roundtrip":
            output = module.map(printModule) ?? ""
        case "verify":
            output = diagnostics.map(\.description).joined(separator: "\n")
        default:
            guard var m = module, let pass else { break }
            if let tok = g.tokenizer {
                let path = folder + "/" + tok
                do {
                    let source = try TokenizerJSON.load(path: path).model
                    if source.tokens.count != m.vocabulary.originalSize {
                        failures.append("\(g.name): error: tokenizer \(tok) has \(source.tokens.count) tokens; the module's source "
                                        + "vocabulary has \(m.vocabulary.originalSize)")
                    }
                    let bpe = try m.vocabulary.idMap.map { try source.pruned(keeping: Array($0)) } ?? source
                    if bpe.tokens.count != m.vocabulary.size || bpe.merges.count != m.vocabulary.mergeCount {
                        failures.append("\(g.name): error: tokenizer \(tok) (through the id map, if any) has \(bpe.tokens.count) tokens "
                                        + "and \(bpe.merges.count) merges; the module's vocabulary has size \(m.vocabulary.size) and "
                                        + "\(m.vocabulary.mergeCount) merges")
                    }
                    m.vocabulary.bpe = bpe
                } catch {
                    failures.append("\(g.name): error: cannot load tokenizer \(path): \(error.localizedDescription)")
                    break
                }
            }
            do {
                let r = try runPass(pass, on: m)
                output = "// \(written): \(r.statistics)\n" + printModule(r.module)
                if r.changed != (r.module != m) { failures.append("\(g.name): error: rewriter's changed flag is wrong") }
            } catch {
                failures.append("\(g.name): error: \(written) failed: \(error.localizedDescription)")
            }
        }
        return failures + FileCheck(checks: g.text, file: g.name).run(on: output)
    }

    /// The pass a RUN action names, with default options (`dce`) or with options in pipeline syntax
    /// (`ffn-prune{drop=4,strategy=top}`, parsed and validated by `Pipeline`); nil if unknown or rejected.
    /// The one pass a RUN action names, or why it names none (the pipeline parser's located message).
    static func makePass(_ action: String) -> Result<any Pass, Error> {
        Result {
            let scheduled = try Pipeline(parsing: action).resolve()
            guard scheduled.count == 1 else { throw PassError.unknownPass(action, known: PassRegistry.standard.names) }
            return scheduled[0].pass
        }
    }

    /// Matches diagnostics (and their notes) against expectations; every error and warning must be expected,
    /// every expectation met. Notes are checked only when expected.
    static func match(_ diagnostics: [Diagnostic], _ expected: [GoldenFile.Expectation], file: String) -> [String] {
        var remaining = expected
        var failures: [String] = []
        let all = diagnostics.flatMap { [$0] + $0.notes }
        for d in all {
            guard let loc = d.location.sourceLocation, loc.file == file else {
                if d.severity != .note { failures.append("\(file): error: diagnostic without a location in this file: \(d)") }
                continue
            }
            if let i = remaining.firstIndex(where: { $0.severity == d.severity && $0.line == loc.line && d.message.contains($0.message) }) {
                remaining.remove(at: i)
            } else if d.severity != .note {
                failures.append("\(file):\(loc.line): error: unexpected \(d.severity.rawValue): \(d.message)")
            }
        }
        for e in remaining {
            failures.append("\(file):\(e.line): error: expected \(e.severity.rawValue) not produced: {{\(e.message)}}")
        }
        return failures
    }

    static func firstDifference(_ a: String, _ b: String) -> String {
        let la = a.split(separator: "\n", omittingEmptySubsequences: false)
        let lb = b.split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<max(la.count, lb.count) {
            let x = i < la.count ? String(la[i]) : "<end>", y = i < lb.count ? String(lb[i]) : "<end>"
            if x != y { return "  ir line \(i + 1):\n    file:    \(x)\n    printed: \(y)" }
        }
        return "  (none)"
    }

    /// The golden folder beside this file.
    static var goldenRoot: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden") }

    /// Every `.pir` file under Golden/, as (path relative to Golden/, text), sorted by path.
    static func allFiles() throws -> [(String, String)] {
        let root = goldenRoot
        guard let e = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        var out: [(String, String)] = []
        for case let url as URL in e where url.pathExtension == "pir" {
            let rel = String(url.standardizedFileURL.path.dropFirst(root.standardizedFileURL.path.count + 1))
            out.append((rel, try String(contentsOf: url, encoding: .utf8)))
        }
        return out.sorted { $0.0 < $1.0 }
    }
}
