// Deterministic windows over text: evenly spaced, disjoint, starting at line starts. Calibration windows (in tokens),
// vocab-prune's mass windows (in tokens) and held-out pieces (in bytes) are all cut this way.
import Foundation

/// Start indices of `samples` disjoint windows of `length` over `tokens` positions (requires tokens >= samples x
/// length). Window i aims at i x (tokens - length) / (samples - 1); it may move anywhere between the end of the
/// previous window and the latest start that leaves room for the next one, to the line start nearest its aim.
public func windowStarts(tokens: Int, samples: Int, length: Int, isLineStart: (Int) -> Bool) -> [Int] {
    let span = tokens - length
    let aims = (0..<samples).map { samples == 1 ? 0 : $0 * span / (samples - 1) }
    var starts: [Int] = []
    var low = 0
    for (i, aim) in aims.enumerated() {
        let high = i == samples - 1 ? span : aims[i + 1] - length
        var best = aim
        var d = 0
        search: while aim - d >= low || aim + d <= high {
            for t in [aim - d, aim + d] where t >= low && t <= high && isLineStart(t) {
                best = t
                break search
            }
            d += 1
        }
        starts.append(best)
        low = best + length
    }
    return starts
}

/// `samples` disjoint pieces of `text` of about `bytes` bytes each, evenly spaced over it: each starts at a line
/// start (placed like `windowStarts` over the text's bytes) and runs to the end of the line that reaches `bytes`
/// (or to the next piece). Nil when the text has fewer than samples x bytes bytes. Deterministic.
public func textPieces(_ text: String, samples: Int, bytes: Int) -> [String]? {
    let utf8 = Array(text.utf8)
    guard samples >= 1, bytes >= 1, utf8.count >= samples * bytes else { return nil }
    let nl = UInt8(ascii: "\n")
    let starts = windowStarts(tokens: utf8.count, samples: samples, length: bytes) { $0 == 0 || utf8[$0 - 1] == nl }
    return starts.enumerated().map { i, start in
        let limit = i + 1 < starts.count ? starts[i + 1] : utf8.count
        var end = start + bytes
        while end < limit && utf8[end - 1] != nl { end += 1 }
        return String(decoding: utf8[start..<end], as: UTF8.self)
    }
}
