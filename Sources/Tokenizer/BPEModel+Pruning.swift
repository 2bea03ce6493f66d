// Pruning a byte-level BPE model to a set of kept ids: byte and added tokens, merge-chain closure, filtered tables.
//
// Why the kept set must be closed under merge chains: BPE builds a token by merging pairs, lowest rank first.
// If every token a text's original tokenization ends with is kept, every token made on the way (each merge's
// parts, recursively) must be kept too, and so must the merges themselves; then the pruned model, whose merges
// are the original ones among kept tokens in the original rank order, makes exactly the same merges in the same
// order (each merge the original picks is still the lowest-ranked applicable one among a subset of the rules).
// A token made by several merges keeps the parts of all of them: which route a text takes depends on the text.
import Foundation
import PareIR

/// Why a BPE model cannot be pruned to the ids given.
public enum BPEPruningError: Error, LocalizedError, Equatable {
    /// Kept ids must be strictly increasing (a monotone new -> old map); entry `index` is not.
    case idsNotIncreasing(index: Int, previous: Int, id: Int)
    /// A kept id is not a token of the model.
    case idOutOfRange(id: Int, count: Int)
    /// A keep mask whose length is not the number of tokens.
    case maskSize(found: Int, tokens: Int)

    public var errorDescription: String? {
        switch self {
        case let .idsNotIncreasing(index, previous, id):
            return "BPE pruning: kept ids must be strictly increasing, but entry \(index) (\(id)) follows \(previous)"
        case let .idOutOfRange(id, count):
            return "BPE pruning: kept id \(id) is not a token of the model (it has \(count) tokens)"
        case let .maskSize(found, tokens):
            return "BPE pruning: the keep mask has \(found) entries but the model has \(tokens) tokens"
        }
    }
}

/// The token ids a vocabulary pruning keeps and why each is kept: the first reason that applies, in the order
/// corpus, mass, special, byte, merge chain.
public struct BPEKeepSet: Sendable, Equatable {
    /// Why a token is kept.
    public enum Reason: String, Sendable, CaseIterable {
        /// The corpus uses it at least min-count times.
        case corpus
        /// The model puts enough next-token probability on it (`vocab-prune{select=mass}`).
        case mass
        /// A control, user-defined or unknown token, or a special role (bos, eos, pad, ...).
        case special
        /// One of the 256 single-byte tokens (the byte fallback every text can be spelled in).
        case byte
        /// A part of a merge that makes a kept token (recursively).
        case mergeChain = "merge-chain"
    }

    /// [model tokens] the reason each id is kept, nil where it is dropped.
    public let reasons: [Reason?]
    /// The kept ids, strictly increasing: new id i is old id `ids[i]`.
    public let ids: [Int]

    /// How many ids are kept for `reason`.
    public func count(_ reason: Reason) -> Int { reasons.reduce(0) { $0 + ($1 == reason ? 1 : 0) } }

    /// True if old id `id` is kept.
    public func contains(_ id: Int) -> Bool { reasons.indices.contains(id) && reasons[id] != nil }
}

extension BPEModel {
    /// Token string -> id (the first id of a string used twice; `BPETokenizer` rejects such models anyway).
    func idsByString() -> [String: Int] {
        var ids: [String: Int] = [:]
        ids.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() where ids[t] == nil { ids[t] = i }
        return ids
    }

    /// Each merge rule as ids (left, right, result), in rank order; nil where the rule names an unknown token.
    func mergeIDs(_ ids: [String: Int]) -> [(Int, Int, Int)?] {
        merges.map { a, b in
            guard let l = ids[a], let r = ids[b], let m = ids[a + b] else { return nil }
            return (l, r, m)
        }
    }

    /// The ids of the single-byte tokens of the byte-level alphabet, in byte order (at most 256: a byte whose
    /// token the vocabulary lacks is missing).
    public func byteTokenIDs() -> [Int] {
        let ids = idsByString()
        return (0..<256).compactMap { ids[ByteLevel.encode(bytes: [UInt8($0)])] }
    }

    /// The ids of added tokens: control, user-defined and unknown tokens.
    public func addedTokenIDs() -> [Int] {
        kinds.indices.filter { [.control, .userDefined, .unknown].contains(kinds[$0]) }
    }

    /// Adds to `keep` ([tokens]) the parts of every merge that makes a kept token, recursively, and returns the ids
    /// it added (increasing). After this, every merge whose result is kept has both parts kept. `keep` has one
    /// entry per token.
    public func closeUnderMergeChains(_ keep: inout [Bool]) throws -> [Int] {
        guard keep.count == tokens.count else { throw BPEPruningError.maskSize(found: keep.count, tokens: tokens.count) }
        var madeBy = [[Int32]](repeating: [], count: tokens.count)  // result id -> ranks of the merges making it
        let rules = mergeIDs(idsByString())
        for (rank, rule) in rules.enumerated() { if let (_, _, m) = rule { madeBy[m].append(Int32(rank)) } }
        var work = keep.indices.filter { keep[$0] }
        var added: [Int] = []
        while let t = work.popLast() {
            for rank in madeBy[t] {
                guard let (l, r, _) = rules[Int(rank)] else { continue }
                for part in [l, r] where !keep[part] {
                    keep[part] = true
                    added.append(part)
                    work.append(part)
                }
            }
        }
        return added.sorted()
    }

    /// Algorithm 1's kept set: `used` (ids the corpus uses often enough), `massive` (ids carrying the model's
    /// probability mass, none for Algorithm 1 itself), `specials` (special-role ids) and every added token, all 256
    /// byte tokens (and any token of kind `byte`), and the merge-chain closure of all of them.
    public func keepSet(used: [Int], massive: [Int] = [], specials: [Int]) throws -> BPEKeepSet {
        var reasons = [BPEKeepSet.Reason?](repeating: nil, count: tokens.count)
        func mark(_ ids: [Int], _ reason: BPEKeepSet.Reason) throws {
            for id in ids {
                guard reasons.indices.contains(id) else { throw BPEPruningError.idOutOfRange(id: id, count: tokens.count) }
                if reasons[id] == nil { reasons[id] = reason }
            }
        }
        try mark(used, .corpus)
        try mark(massive, .mass)
        try mark(specials + addedTokenIDs(), .special)
        try mark(byteTokenIDs() + kinds.indices.filter { kinds[$0] == .byte }, .byte)
        var keep = reasons.map { $0 != nil }
        try mark(try closeUnderMergeChains(&keep), .mergeChain)
        return BPEKeepSet(reasons: reasons, ids: reasons.indices.filter { reasons[$0] != nil })
    }

    /// Ids of kept tokens made by some merge whose parts are not both kept (empty when `ids` is closed under
    /// merge chains, as a kept set must be for the pruned tokenizer to match the original).
    public func unclosedTokens(keeping ids: [Int]) -> [Int] {
        var keep = [Bool](repeating: false, count: tokens.count)
        for id in ids where keep.indices.contains(id) { keep[id] = true }
        var out = Set<Int>()
        for rule in mergeIDs(idsByString()) {
            guard let (l, r, m) = rule, keep[m], !keep[l] || !keep[r] else { continue }
            out.insert(m)
        }
        return out.sorted()
    }

    /// The model restricted to `ids` (strictly increasing): new id i is the token `ids[i]` with its kind; the
    /// merges are the original rules whose two parts and result are all kept, in their original rank order;
    /// the pre-tokenizer is unchanged. A deterministic function of the model and `ids`.
    public func pruned(keeping ids: [Int]) throws -> BPEModel {
        var keep = [Bool](repeating: false, count: tokens.count)
        for (i, id) in ids.enumerated() {
            guard keep.indices.contains(id) else { throw BPEPruningError.idOutOfRange(id: id, count: tokens.count) }
            if i > 0 && ids[i - 1] >= id { throw BPEPruningError.idsNotIncreasing(index: i, previous: ids[i - 1], id: id) }
            keep[id] = true
        }
        let rules = mergeIDs(idsByString())
        var kept: [(String, String)] = []
        for (rank, rule) in rules.enumerated() {
            guard let (l, r, m) = rule, keep[l], keep[r], keep[m] else { continue }
            kept.append(merges[rank])
        }
        return BPEModel(tokens: ids.map { tokens[$0] }, kinds: ids.map { kinds[$0] }, merges: kept, preTokenizer: preTokenizer)
    }
}
