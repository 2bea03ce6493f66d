// The held-out check of a pass that changes the tokenizer: each module reads held-out text with its OWN tokenizer,
// as a prompt reaches it, and the two are compared by loss per byte and by KL where their tokenizations agree.
//
// Why not the calibration KL: calibration windows are token sequences; a pruned vocabulary re-tokenizes their text and
// both modules then read the pruned module's tokens. On text the vocabulary was chosen from nothing re-tokenizes, so
// the KL is ~0 however badly prompts from elsewhere are split. Loss per byte (nats per byte of text) is comparable
// across tokenizations: a module that reads a misspelled split of an identifier pays for it in bytes it predicts badly.
import Foundation
import PareIR
import PareInterpreter
import PareTokenizer

/// What the held-out check measured between a module (before) and the module after a tokenizer-changing pass.
public struct HeldOutStatistics: Sendable, Codable, Equatable {
    /// Held-out pieces compared.
    public var texts: Int
    /// Bytes both modules predicted (each piece from its first token boundary the two tokenizations share).
    public var bytes: Int
    /// Tokens each module read.
    public var tokensBefore: Int
    public var tokensAfter: Int
    /// Nats per byte of text: -log p of every token predicted, summed, over `bytes`.
    public var natsPerByteBefore: Double
    public var natsPerByteAfter: Double
    /// Pieces whose tokenization differs between the two (after's ids are not before's ids mapped).
    public var tokenizationsChanged: Int
    /// Positions where both tokenizations have a token boundary at the same byte and the same next token; the KL
    /// statistics below are over these (P renormalised over the tokens after kept; removed mass reported apart).
    public var alignedPositions: Int
    /// The before-module's and the after-module's predicted positions.
    public var positionsBefore: Int
    public var positionsAfter: Int
    /// KL(P_before ‖ Q_after) at the aligned positions.
    public var kl: KLStatistics
    /// Mean next-token probability the before-module puts on tokens the after-module lacks, over every position it
    /// predicts (not only aligned ones): what the pruned vocabulary cannot say where the original would.
    public var removedMass: Double

    enum CodingKeys: String, CodingKey {
        case texts, bytes, kl
        case tokensBefore = "tokens_before", tokensAfter = "tokens_after", natsPerByteBefore = "nats_per_byte_before"
        case natsPerByteAfter = "nats_per_byte_after", tokenizationsChanged = "tokenizations_changed"
        case removedMass = "removed_mass"
        case alignedPositions = "aligned_positions", positionsBefore = "positions_before", positionsAfter = "positions_after"
    }

    /// Relative change of the loss per byte: after / before - 1 (0.02 = 2% more nats per byte).
    public var lossIncrease: Double { natsPerByteBefore > 0 ? natsPerByteAfter / natsPerByteBefore - 1 : 0 }

    /// Share of the after-module's positions that are aligned.
    public var alignedShare: Double { positionsAfter > 0 ? Double(alignedPositions) / Double(positionsAfter) : 0 }

    /// `loss 0.412 -> 0.431 nats/byte (+4.6%) over 12288 bytes; tokens 3401 -> 3620; 5 of 8 tokenizations changed;
    /// aligned 88.1%: KL mean ...`.
    public var summary: String {
        String(format: "held-out loss %.4g -> %.4g nats/byte (%+.2f%%) over %d bytes of %d pieces; tokens %d -> %d; "
               + "%d of %d tokenizations changed; removed mass %.4g; aligned positions %.1f%%: ",
               natsPerByteBefore, natsPerByteAfter, lossIncrease * 100, bytes, texts, tokensBefore, tokensAfter,
               tokenizationsChanged, texts, removedMass, alignedShare * 100) + kl.summary
    }
}

/// Token start offsets (bytes) of `ids` under `tokenizer`, plus the total as a last entry.
func byteOffsets(_ ids: [Int], _ tokenizer: BPETokenizer) -> [Int] {
    var out = [0]
    out.reserveCapacity(ids.count + 1)
    for id in ids { out.append(out[out.count - 1] + tokenizer.byteCount(id)) }
    return out
}

/// -log softmax(row)[target] and, when `kept` ([row] mask) is given, the probability outside it; double precision.
func negativeLogProbability(_ row: ArraySlice<Float>, _ target: Int, kept: [Bool]? = nil) -> (nll: Double, outside: Double) {
    var top = -Float.infinity
    for x in row where x > top { top = x }
    var s = 0.0, inside = 0.0
    let base = row.startIndex
    for j in 0..<row.count {
        let e = Foundation.exp(Double(row[base + j] - top))
        s += e
        if let kept, kept[j] { inside += e }
    }
    return (Double(top) + Foundation.log(s) - Double(row[base + target]), kept == nil ? 0 : Swift.max(0, 1 - inside / s))
}

/// The tokenizer of a module's vocabulary, or an error naming what is missing.
func moduleTokenizer(_ m: Module, pass: String) throws -> BPETokenizer {
    guard let bpe = m.vocabulary.bpe else {
        throw PassError.needsData(pass: pass, what: "the BPE tables of the vocabulary for the held-out check")
    }
    if let idMap = m.vocabulary.idMap, bpe.tokens.count == idMap.count, let t = PrunedTokenizers.shared.tokenizer(idMap, bpe) {
        return t
    }
    return try BPETokenizer(model: bpe)
}

/// Compares `before` and `after` (a module whose vocabulary is `before`'s or a pruning of it) on held-out text: each
/// reads every piece with its own tokenizer and is run by the interpreter over `store`. See `HeldOutStatistics`.
public func measureHeldOut(before: Module, after: Module, store: WeightStore, heldOut: HeldOutText,
                           pass: String = "held-out check", progress: (String) -> Void = { _ in }) throws -> HeldOutStatistics {
    let keep = try vocabularyMapping(from: before.vocabulary, to: after.vocabulary)  // after id -> before id
    let tokB = try moduleTokenizer(before, pass: pass), tokA = try moduleTokenizer(after, pass: pass)
    let interpB = try Interpreter(module: before, store: store), interpA = try Interpreter(module: after, store: store)
    var acc = KLAccumulator(keep: keep)
    var stats = HeldOutStatistics(texts: 0, bytes: 0, tokensBefore: 0, tokensAfter: 0, natsPerByteBefore: 0,
                                  natsPerByteAfter: 0, tokenizationsChanged: 0, alignedPositions: 0, positionsBefore: 0, positionsAfter: 0,
                                  kl: acc.statistics(), removedMass: 0)
    var natsB = 0.0, natsA = 0.0, outside = 0.0
    var kept: [Bool]?  // [before vocabulary] the tokens after kept
    if let keep {
        var k = [Bool](repeating: false, count: before.vocabulary.size)
        for b in keep { k[b] = true }
        kept = k
    }
    for (n, text) in heldOut.texts.enumerated() {
        let idsB = tokB.encode(text), idsA = tokA.encode(text)
        guard idsB.count >= 2, idsA.count >= 2 else { continue }
        stats.texts += 1
        stats.tokensBefore += idsB.count
        stats.tokensAfter += idsA.count
        if idsA.count != idsB.count || zip(idsA, idsB).contains(where: { (keep?[$0] ?? $0) != $1 }) { stats.tokenizationsChanged += 1 }
        let offB = byteOffsets(idsB, tokB), offA = byteOffsets(idsA, tokA)
        // Both predict the bytes from their first shared boundary on, so the loss is over the same text.
        // byte -> index of the first token starting there (a token of zero bytes would share its offset)
        let startsB = Dictionary(offB.dropLast().enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        guard let first = offA.dropFirst().first(where: { startsB[$0] != nil || $0 == offB.last }),
              first < offA[offA.count - 1] else { continue }
        stats.bytes += offA[offA.count - 1] - first

        let lb = try interpB.forward(idsB), la = try interpA.forward(idsA)
        for i in 1..<idsB.count where offB[i] >= first {
            let (nll, out) = negativeLogProbability(lb.row(i - 1), idsB[i], kept: kept)
            natsB += nll
            outside += out
            stats.positionsBefore += 1
        }
        for i in 1..<idsA.count where offA[i] >= first {
            natsA += negativeLogProbability(la.row(i - 1), idsA[i]).nll
            stats.positionsAfter += 1
            // Aligned: before has a token starting at the same byte, and it is the same token.
            if let j = startsB[offA[i]], j >= 1, (keep?[idsA[i]] ?? idsA[i]) == idsB[j] {
                acc.add(before: lb.row(j - 1), after: la.row(i - 1))
            }
        }
        progress("held-out piece \(n + 1)/\(heldOut.texts.count)")
    }
    stats.kl = acc.statistics()
    stats.alignedPositions = stats.kl.positions
    stats.removedMass = stats.positionsBefore > 0 ? outside / Double(stats.positionsBefore) : 0
    if stats.bytes > 0 {
        stats.natsPerByteBefore = natsB / Double(stats.bytes)
        stats.natsPerByteAfter = natsA / Double(stats.bytes)
    }
    return stats
}
