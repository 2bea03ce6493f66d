// Stop sequences checked on decoded text as it streams: generation ends as soon as one appears.

/// Accumulates streamed text and finds the first stop sequence in it, however the text was split into pieces.
public struct StopMatcher: Sendable {
    /// The sequences that end a completion (not part of it).
    public let stops: [String]
    /// Everything pushed so far.
    public private(set) var text = ""
    /// Where the first stop sequence starts in `text`, once one has appeared.
    public private(set) var stopIndex: String.Index?
    private let longest: Int

    /// A matcher for `stops` (empty strings are ignored).
    public init(_ stops: [String]) {
        self.stops = stops.filter { !$0.isEmpty }
        longest = self.stops.map(\.count).max() ?? 0
    }

    /// Appends a piece of text; true when a stop sequence has now appeared. Only the new text and the
    /// `longest - 1` characters before it are searched (finding where they start walks the text: O(n) per call,
    /// a few microseconds at HumanEval's 512 tokens).
    @discardableResult
    public mutating func push(_ piece: String) -> Bool {
        guard stopIndex == nil else { return true }
        guard !piece.isEmpty, longest > 0 else {
            text += piece
            return false
        }
        let from = text.index(text.endIndex, offsetBy: -min(longest - 1, text.count))
        let offset = text.distance(from: text.startIndex, to: from)
        text += piece
        let window = text[text.index(text.startIndex, offsetBy: offset)...]
        var best: String.Index?
        for s in stops {
            if let r = window.range(of: s), best.map({ r.lowerBound < $0 }) ?? true { best = r.lowerBound }
        }
        stopIndex = best
        return best != nil
    }

    /// The text before the first stop sequence (all of it when none appeared).
    public var completion: String { stopIndex.map { String(text[..<$0]) } ?? text }
}
