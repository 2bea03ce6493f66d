// The paper's position heuristics for FFN pruning (Flab-Pruner 3.4): keep the first, last, middle or a random K
// channels of a block, by position alone.
import PareIR

/// Which `count` of a block's `width` FFN channels to keep, chosen by position. These need no weights and no data.
public enum NeuronPositionRule: String, CaseIterable, Sendable {
    /// The first K channels: `0..<K`.
    case top
    /// The last K channels: `width-K..<width`.
    case bottom
    /// The K channels centred in the block: `s..<s+K` with `s = (width - K) / 2` (rounded down).
    case middle
    /// K channels drawn uniformly without replacement, sorted. Each block draws from its own stream seeded by
    /// `(seed, block index)`, so blocks differ, a block's draw does not depend on the other blocks' widths, and the
    /// same seed always gives the same channels (SplitMix64 and a bounded draw of our own, not the standard
    /// library's, whose algorithm may change between toolchains).
    case random

    /// The kept channels, ascending. `count` is clamped to `0...width`.
    public func keep(_ count: Int, of width: Int, block: Int, seed: Int) -> IndexList {
        let k = min(max(count, 0), max(width, 0))
        switch self {
        case .top: return IndexList(Array(0..<k))
        case .bottom: return IndexList(Array((width - k)..<width))
        case .middle:
            let s = (width - k) / 2
            return IndexList(Array(s..<(s + k)))
        case .random:
            var g = NeuronSampler(seed: seed, stream: block)
            var pool = Array(0..<width)
            for i in 0..<k { pool.swapAt(i, i + g.below(width - i)) }   // partial Fisher-Yates
            return IndexList(pool.prefix(k).sorted())
        }
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a small, fast, well-mixed generator with a fixed, documented output.
struct NeuronSampler {
    private var state: UInt64

    /// A stream for one (seed, stream) pair; different streams of one seed are unrelated.
    init(seed: Int, stream: Int) {
        var s = UInt64(bitPattern: Int64(seed))
        state = s
        s = next()
        state = s ^ (UInt64(bitPattern: Int64(stream)) &* 0xD1B5_4A32_D192_ED03)
    }

    /// The next 64 random bits.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `0..<n` (n > 0), by rejection so that no value is favoured.
    mutating func below(_ n: Int) -> Int {
        let bound = UInt64(n)
        let limit = UInt64.max - UInt64.max % bound
        while true {
            let x = next()
            if x < limit { return Int(x % bound) }
        }
    }
}
