// Byte-level BPE on one pre-token piece, merging by rank exactly as Hugging Face tokenizers does.
//
// The piece starts as one symbol per byte. Repeatedly, of all adjacent pairs that have a merge rule,
// the one with the lowest rank is merged, the leftmost on ties; a min-heap keyed (rank, position)
// holds the candidates, and entries whose pair has since changed are skipped when popped.

/// Merge rules keyed by the pair of token ids.
struct MergeTable: Sendable {
    /// (left id << 32 | right id) -> (rank << 32 | merged id).
    var rules: [UInt64: UInt64] = [:]

    @inline(__always)
    static func key(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b)) }

    /// The rule for a pair: its rank and the merged token's id.
    @inline(__always)
    func rule(_ a: Int32, _ b: Int32) -> (rank: UInt32, id: Int32)? {
        guard let v = rules[MergeTable.key(a, b)] else { return nil }
        return (UInt32(truncatingIfNeeded: v >> 32), Int32(truncatingIfNeeded: v))
    }
}

/// Reusable buffers for merging one piece.
struct MergeScratch {
    /// [m] token id of each symbol, -1 once merged into its left neighbour.
    var symbol: [Int32] = []
    /// [m] previous / next live symbol, -1 at the ends.
    var prev: [Int32] = []
    var next: [Int32] = []
    /// Candidate merges as (rank << 32 | left symbol position), a min-heap.
    var heap: [UInt64] = []

    mutating func push(_ key: UInt64) {
        heap.append(key)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if heap[parent] <= key { break }
            heap[i] = heap[parent]
            i = parent
        }
        heap[i] = key
    }

    mutating func pop() -> UInt64 {
        let top = heap[0]
        let last = heap.removeLast()
        let n = heap.count
        if n > 0 {
            var i = 0
            while true {
                var child = 2 * i + 1
                if child >= n { break }
                if child + 1 < n && heap[child + 1] < heap[child] { child += 1 }
                if heap[child] >= last { break }
                heap[i] = heap[child]
                i = child
            }
            heap[i] = last
        }
        return top
    }
}

extension MergeTable {
    /// Appends the tokens of the piece `bytes[range]` to `out`. `byteIds[b]` is the token of byte b
    /// (-1 if the vocabulary lacks it: the byte is dropped, as Hugging Face does without an unknown token).
    func tokenize(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, byteIds: [Int32],
                  scratch w: inout MergeScratch, into out: inout [Int]) {
        w.symbol.removeAll(keepingCapacity: true)
        for i in range {
            let id = byteIds[Int(bytes[i])]
            if id >= 0 { w.symbol.append(id) }
        }
        let m = w.symbol.count
        if m <= 1 {
            if m == 1 { out.append(Int(w.symbol[0])) }
            return
        }
        w.prev.removeAll(keepingCapacity: true)
        w.next.removeAll(keepingCapacity: true)
        w.heap.removeAll(keepingCapacity: true)
        for i in 0..<m {
            w.prev.append(Int32(i - 1))
            w.next.append(i + 1 < m ? Int32(i + 1) : -1)
            if i + 1 < m, let r = rule(w.symbol[i], w.symbol[i + 1]) { w.push(UInt64(r.rank) << 32 | UInt64(i)) }
        }
        while !w.heap.isEmpty {
            let top = w.pop()
            let rank = UInt32(truncatingIfNeeded: top >> 32)
            let pos = Int(UInt32(truncatingIfNeeded: top))
            let left = w.symbol[pos]
            let nx = Int(w.next[pos])
            // Skip entries whose pair no longer stands: the left symbol was absorbed, or its right
            // neighbour changed (a rank names one pair, so an equal rank means the same pair).
            guard left >= 0, nx >= 0, let r = rule(left, w.symbol[nx]), r.rank == rank else { continue }
            w.symbol[pos] = r.id
            w.symbol[nx] = -1
            let after = w.next[nx]
            w.next[pos] = after
            if after >= 0 { w.prev[Int(after)] = Int32(pos) }
            let before = Int(w.prev[pos])
            if before >= 0, let p = rule(w.symbol[before], r.id) { w.push(UInt64(p.rank) << 32 | UInt64(before)) }
            if after >= 0, let q = rule(r.id, w.symbol[Int(after)]) { w.push(UInt64(q.rank) << 32 | UInt64(pos)) }
        }
        var i = 0
        while i >= 0 {
            out.append(Int(w.symbol[i]))
            i = Int(w.next[i])
        }
    }
}
