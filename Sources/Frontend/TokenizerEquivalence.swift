// The equivalence checker of vocabulary pruning: the pruned tokenizer gives exactly the mapped ids of the original
// on every text the original tokenizes with kept tokens, and round-trips every other text through its byte tokens.
import Foundation
import PareTokenizer

/// One text on which the pruned tokenizer does not give the mapped ids of the original.
public struct EquivalenceMismatch: Sendable, Equatable, CustomStringConvertible {
    /// Index of the text in the list checked.
    public var text: Int
    /// Position of the first differing token.
    public var position: Int
    /// The original's ids mapped to new ids: what the pruned tokenizer must give.
    public var expected: [Int]
    /// What the pruned tokenizer gave.
    public var found: [Int]
    /// The expected token string at the first difference (`<end>` past the end), in the pruned vocabulary.
    public var expectedToken: String
    /// The token string the pruned tokenizer gave there.
    public var foundToken: String

    /// `text 3, token 5: expected 812 "Ġreturn", got 97 "Ġret" (12 vs 13 tokens)`.
    public var description: String {
        "text \(text), token \(position): expected \(position < expected.count ? String(expected[position]) : "end") "
            + "\(expectedToken.debugDescription), got \(position < found.count ? String(found[position]) : "end") "
            + "\(foundToken.debugDescription) (\(expected.count) vs \(found.count) tokens)"
    }
}

/// A text that survives decode(encode(x)) with the original tokenizer but not with the pruned one.
public struct RoundTripFailure: Sendable, Equatable, CustomStringConvertible {
    /// Index of the text in the list checked.
    public var text: Int
    /// Offset (in Unicode scalars) of the first differing scalar.
    public var offset: Int
    /// `text 7: decode(encode(x)) differs from x at scalar 12`.
    public var description: String { "text \(text): decode(encode(x)) differs from x at scalar \(offset)" }
}

/// What `checkTokenizerEquivalence` found.
public struct EquivalenceReport: Sendable, Equatable, CustomStringConvertible {
    /// Texts checked.
    public var texts = 0
    /// Texts the original tokenizes with kept tokens only: these must give exactly the mapped ids.
    public var covered = 0
    /// Tokens compared on covered texts.
    public var tokens = 0
    /// Covered texts on which the ids differ (all of them, in text order).
    public var mismatches: [EquivalenceMismatch] = []
    /// Texts (covered or not) that round-trip through the original tokenizer but not through the pruned one.
    public var roundTripFailures: [RoundTripFailure] = []
    /// Problems with the tables themselves: a non-monotone id map, an id out of range, a pruned token string that
    /// is not the original token it maps to (at most the first 10, then a count).
    public var tableProblems: [String] = []

    /// True when nothing is wrong.
    public var passed: Bool { mismatches.isEmpty && roundTripFailures.isEmpty && tableProblems.isEmpty }

    /// A summary and the first problems.
    public var description: String {
        var s = "\(passed ? "OK" : "NOT OK"): \(texts) texts, \(covered) fully covered by kept tokens, \(tokens) tokens compared; "
            + "\(mismatches.count) mismatches, \(roundTripFailures.count) round-trip failures, \(tableProblems.count) table problems"
        for m in mismatches.prefix(3) { s += "\n  mismatch: \(m)" }
        for f in roundTripFailures.prefix(3) { s += "\n  round trip: \(f)" }
        for p in tableProblems.prefix(3) { s += "\n  table: \(p)" }
        return s
    }
}

/// Checks a vocabulary pruning. `idMap[new] = original id` (strictly increasing). For each text: if the original's
/// ids all map to kept ids, the pruned tokenizer must give exactly those mapped ids; every text that satisfies
/// decode(encode(x)) == x with the original tokenizer must also satisfy it with the pruned one. The tables must agree: the pruned token string of each new id
/// is the original token string of `idMap[new]`.
public func checkTokenizerEquivalence(original: BPETokenizer, pruned: BPETokenizer, idMap: [Int], texts: [String]) -> EquivalenceReport {
    var report = EquivalenceReport()
    var newID = [Int](repeating: -1, count: original.count)  // [original] original id -> new id, -1 if dropped
    var problems: [String] = []
    if idMap.count != pruned.count { problems.append("the id map has \(idMap.count) entries for \(pruned.count) pruned tokens") }
    for (n, o) in idMap.enumerated() {
        if n > 0 && idMap[n - 1] >= o { problems.append("id map is not strictly increasing at entry \(n) (\(o) after \(idMap[n - 1]))") }
        guard o >= 0 && o < original.count else { problems.append("id map entry \(n) is \(o), not an original id"); continue }
        newID[o] = n
        if let a = pruned.tokenString(n), let b = original.tokenString(o), a != b {
            problems.append("new id \(n) is \(a.debugDescription) but original id \(o) is \(b.debugDescription)")
        }
    }
    report.tableProblems = Array(problems.prefix(10)) + (problems.count > 10 ? ["... \(problems.count - 10) more"] : [])

    for (i, text) in texts.enumerated() {
        report.texts += 1
        let got = pruned.encode(text)
        let originalIDs = original.encode(text)
        let back = pruned.decode(got)
        // A text the original cannot spell (a byte its vocabulary lacks) cannot round-trip through a subset of it.
        if back != text && original.decode(originalIDs) == text {
            let a = Array(text.unicodeScalars), b = Array(back.unicodeScalars)
            let offset = firstDifference(a, b)
            report.roundTripFailures.append(RoundTripFailure(text: i, offset: offset))
        }
        let mapped = originalIDs.map { newID[$0] }
        guard !mapped.contains(-1) else { continue }
        report.covered += 1
        report.tokens += mapped.count
        guard got != mapped else { continue }
        let at = firstDifference(mapped, got)
        func token(_ ids: [Int]) -> String { at < ids.count ? pruned.tokenString(ids[at]) ?? "?" : "<end>" }
        report.mismatches.append(EquivalenceMismatch(text: i, position: at, expected: mapped, found: got,
                                                     expectedToken: token(mapped), foundToken: token(got)))
    }
    return report
}

/// The first index where `a` and `b` differ (the shorter length when one is a prefix of the other).
private func firstDifference<T: Equatable>(_ a: [T], _ b: [T]) -> Int {
    (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
}
