// Choosing the next token: greedy argmax, or seeded temperature sampling within the top-p nucleus.
import Foundation

/// How the next token is chosen from a logits row.
public enum SamplingMode: Sendable, Equatable {
    /// The highest logit; ties go to the lowest id (as the interpreter's greedy generation).
    case greedy
    /// Draws from softmax(logits / temperature) restricted to the top-p nucleus: the smallest set of most probable
    /// tokens whose probability mass is >= topP, renormalised. Temperature 0 (or topP 0) is greedy.
    /// The same seed gives the same draws.
    case temperature(Double, topP: Double, seed: UInt64)
}

/// The id of the largest logit; the lowest id among ties.
public func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int {
    var best = 0
    for i in logits.indices where logits[i] > logits[best] { best = i }
    return best
}

/// Chooses token ids from logits rows. Its scratch is allocated once, so `sample` allocates nothing.
public struct TokenSampler {
    /// The settings it samples with.
    public let mode: SamplingMode
    private let vocabSize: Int
    private var random: Xoshiro256StarStar
    private let scratch: SamplerScratch

    /// Checks the settings (temperature finite and >= 0, topP in 0...1) for a vocabulary of `vocabSize` ids.
    public init(_ mode: SamplingMode, vocabSize: Int) throws {
        guard vocabSize >= 1, vocabSize <= Int(Int32.max) else { throw RuntimeError.badSampling(problem: "vocabulary size \(vocabSize) is out of range") }
        var seed: UInt64 = 0
        if case let .temperature(t, topP, s) = mode {
            guard t.isFinite, t >= 0 else { throw RuntimeError.badSampling(problem: "temperature \(t) must be finite and >= 0") }
            guard topP >= 0, topP <= 1 else { throw RuntimeError.badSampling(problem: "top-p \(topP) must be in 0...1") }
            seed = s
        }
        self.mode = mode
        self.vocabSize = vocabSize
        random = Xoshiro256StarStar(seed: seed)
        scratch = SamplerScratch(vocabSize: vocabSize)
    }

    /// The next token id for one logits row of `vocabSize` floats.
    public mutating func sample(_ logits: [Float]) -> Int {
        logits.withUnsafeBufferPointer { sample($0) }
    }

    /// The next token id for one logits row of `vocabSize` floats (a longer row is cut to `vocabSize`; a shorter
    /// one is sampled over its own length).
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> Int {
        let logits = UnsafeBufferPointer(rebasing: logits.prefix(vocabSize))
        guard !logits.isEmpty else { return 0 }
        guard case let .temperature(t, topP, _) = mode, t > 0 else { return argmax(logits) }
        let mx = Double(logits[argmax(logits)])
        let w = UnsafeMutableBufferPointer(rebasing: scratch.weights.prefix(logits.count))
        var total = 0.0
        for i in 0..<logits.count {
            let e = Foundation.exp((Double(logits[i]) - mx) / t)
            w[i] = e
            total += e
        }
        if topP >= 1 { return draw(w, total: total) }
        return nucleus(w, scratch.heap, total: total, topP: topP)
    }

    /// A draw from all ids in id order.
    private mutating func draw(_ w: UnsafeMutableBufferPointer<Double>, total: Double) -> Int {
        let u = random.nextUnit() * total
        var cumulative = 0.0, last = 0
        for i in 0..<w.count where w[i] > 0 {
            cumulative += w[i]
            last = i
            if u < cumulative { return i }
        }
        return last
    }

    /// A draw from the nucleus: the smallest set of most probable ids (ties: lower id first) whose mass is
    /// >= topP * total, renormalised. Only ids with weight >= tau * total are considered, for the largest tau in
    /// 1e-3, 1e-6, 0 whose candidates hold enough mass: every other id is less probable than all of them, so the set
    /// is the same as with a full sort. The set is found by selection (quickselect on mass, expected linear time),
    /// not by sorting; the draw then walks it in a fixed order.
    private mutating func nucleus(_ w: UnsafeMutableBufferPointer<Double>, _ h: UnsafeMutableBufferPointer<Int32>,
                                  total: Double, topP: Double) -> Int {
        let target = topP * total
        var n = 0
        for tau in [1e-3, 1e-6, 0] {
            n = 0
            var mass = 0.0
            let floor = tau * total
            for i in 0..<w.count where w[i] >= floor {
                h[n] = Int32(i)
                n += 1
                mass += w[i]
            }
            if mass >= target { break }
        }
        let kept = Self.selectNucleus(w, h, count: n, target: target)
        var keptMass = 0.0
        for j in 0..<kept { keptMass += w[Int(h[j])] }
        let u = random.nextUnit() * keptMass
        var cumulative = 0.0
        for j in 0..<kept {
            cumulative += w[Int(h[j])]
            if u < cumulative { return Int(h[j]) }
        }
        return Int(h[kept - 1])
    }

    /// Reorders h[0..<count] so that its first k ids are the smallest most-probable prefix (in the order weight
    /// descending, id ascending) with mass >= target, and returns k (at least 1).
    static func selectNucleus(_ w: UnsafeMutableBufferPointer<Double>, _ h: UnsafeMutableBufferPointer<Int32>,
                              count: Int, target: Double) -> Int {
        @inline(__always) func before(_ a: Int32, _ b: Int32) -> Bool {
            let wa = w[Int(a)], wb = w[Int(b)]
            return wa > wb || (wa == wb && a < b)
        }
        // Invariant: h[0..<lo] are kept, the answer ends inside h[lo..<hi], `need` is the mass still missing.
        var lo = 0, hi = count, need = target
        while hi - lo > 1 {
            // Median-of-three pivot to the end of the range, then a Lomuto partition: ids ranking before it go left.
            let mid = lo + (hi - lo) / 2
            if before(h[mid], h[lo]) { h.swapAt(mid, lo) }
            if before(h[hi - 1], h[lo]) { h.swapAt(hi - 1, lo) }
            if before(h[hi - 1], h[mid]) { h.swapAt(hi - 1, mid) }
            h.swapAt(mid, hi - 1)
            let pivot = h[hi - 1]
            var store = lo, leftMass = 0.0
            for j in lo..<hi - 1 where before(h[j], pivot) {
                leftMass += w[Int(h[j])]
                h.swapAt(j, store)
                store += 1
            }
            h.swapAt(store, hi - 1)
            if store > lo, leftMass >= need {
                hi = store
            } else if leftMass + w[Int(pivot)] >= need {
                return store + 1
            } else {
                need -= leftMass + w[Int(pivot)]
                lo = store + 1
            }
        }
        return min(max(lo + 1, 1), max(count, 1))
    }
}

/// The sampler's per-vocabulary scratch, allocated once (shared by copies of a sampler; contents do not persist).
private final class SamplerScratch {
    /// exp((logit - max) / temperature), unnormalised. `[vocab]`
    let weights: UnsafeMutableBufferPointer<Double>
    /// Candidate ids, then a max-heap of them. `[vocab]`
    let heap: UnsafeMutableBufferPointer<Int32>

    init(vocabSize: Int) {
        weights = .allocate(capacity: vocabSize)
        weights.initialize(repeating: 0)
        heap = .allocate(capacity: vocabSize)
        heap.initialize(repeating: 0)
    }

    deinit {
        weights.deallocate()
        heap.deallocate()
    }
}
