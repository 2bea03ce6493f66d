// The plan's invariants: what the runtime may assume about any ExecutionPlan it executes.
//
// `validate()` checks, in this order, throwing the first violation as a `PlanError`:
//   1. format version == planFormatVersion
//   2. model sizes (hidden, vocabSize, maxContext, maxRows) are positive
//   3. tokenizer: tokens and kinds have vocabSize entries; specials are ids < vocabSize; the id map is empty or
//      vocabSize strictly increasing ids in 0..<originalSize
//   4. tensors: positive dims; offset a multiple of 64; length == count * 4; inside the blob; no two overlap;
//      the blob's file name is a plain name
//   5. buffers: positive width, [offset, offset + width) inside arena.rowFloats; noReuseRowFloats == sum of widths
//   6. KV layers: kvLayers[i].slot == i, positive dims
//   7. steps: every index in range; per-kernel arity, widths, shapes and attributes (the table in `Kernel`'s doc);
//      heads % kvHeads == 0; a step does not read its own output; each attention step's KV layer has its dims
//      (and block); every KV slot is used by exactly one attention step
//   8. output: in range, width == vocabSize, written by some step
//   9. liveness: every buffer read is written by an earlier step; no two buffers live at the same step (from the
//      step that first writes one to the last step that reads it; the output to the end) share arena floats
// Arithmetic on sizes is overflow-checked: a hostile plan gets an error, never a trap.

extension ExecutionPlan {
    /// Throws the first violated invariant (see this file's header) as a `PlanError`.
    public func validate() throws {
        guard readableFormatVersions.contains(formatVersion) else { throw PlanError.formatVersion(found: formatVersion) }
        try validateModel()
        try validateTokenizer()
        try validateTensors()
        try validateBuffers()
        try validateKVLayers()
        for (i, step) in steps.enumerated() { try validateStep(step, index: i) }
        try validateKVSlotUse()
        try validateOutput()
        try validateLiveness()
    }

    private func validateModel() throws {
        for (name, v) in [("hidden", model.hidden), ("vocabSize", model.vocabSize), ("maxContext", model.maxContext),
                          ("maxRows", model.maxRows)] where v <= 0 {
            throw PlanError.modelShape(detail: "\(name) is \(v), must be positive")
        }
    }

    private func validateTokenizer() throws {
        let v = model.vocabSize, t = tokenizer
        guard t.tokens.count == v else { throw PlanError.tokenizerSize(detail: "\(t.tokens.count) tokens for a vocabulary of \(v)") }
        guard t.kinds.count == v else { throw PlanError.tokenizerSize(detail: "\(t.kinds.count) token kinds for a vocabulary of \(v)") }
        for s in t.specials where s.id < 0 || s.id >= v {
            throw PlanError.specialOutOfRange(role: s.role, id: s.id, vocabSize: v)
        }
        guard !t.idMap.isEmpty else { return }
        guard t.idMap.count == v else { throw PlanError.idMap(detail: "\(t.idMap.count) entries for a vocabulary of \(v)") }
        var previous = -1
        for (i, old) in t.idMap.enumerated() {
            guard old > previous else {
                throw PlanError.idMap(detail: "entry \(i) is \(old), not greater than entry \(i - 1) (\(previous))")
            }
            guard old < t.originalSize else {
                throw PlanError.idMap(detail: "entry \(i) is \(old), not below the original vocabulary size \(t.originalSize)")
            }
            previous = old
        }
    }

    private func validateTensors() throws {
        let f = weights.file
        guard !f.isEmpty, f != ".", f != "..", !f.contains("/"), !f.contains("\0") else { throw PlanError.weightsFile(name: f) }
        var ends: [Int] = []
        ends.reserveCapacity(tensors.count)
        for t in tensors {
            guard !t.shape.isEmpty, t.shape.allSatisfy({ $0 > 0 }) else { throw PlanError.tensorShape(tensor: t.name, shape: t.shape) }
            guard checkedProduct(t.shape) != nil, let bytes = t.dtype.byteCount(shape: t.shape) else {
                throw PlanError.tensorShape(tensor: t.name, shape: t.shape)
            }
            guard t.offset >= 0, t.offset % 64 == 0 else { throw PlanError.tensorMisaligned(tensor: t.name, offset: t.offset) }
            guard t.length == bytes else { throw PlanError.tensorLength(tensor: t.name, length: t.length, expected: bytes) }
            let (end, overflow) = t.offset.addingReportingOverflow(t.length)
            guard !overflow, end <= weights.length else {
                throw PlanError.tensorOutsideBlob(tensor: t.name, end: overflow ? Int.max : end, blobLength: weights.length)
            }
            ends.append(end)
        }
        let byOffset = tensors.indices.sorted { (tensors[$0].offset, $0) < (tensors[$1].offset, $1) }
        for (a, b) in zip(byOffset, byOffset.dropFirst()) where ends[a] > tensors[b].offset {
            throw PlanError.tensorsOverlap(a: tensors[a].name, b: tensors[b].name)
        }
    }

    private func validateBuffers() throws {
        var total = 0
        for (i, b) in buffers.enumerated() {
            let (end, overflow) = b.offset.addingReportingOverflow(b.width)
            guard b.width > 0, b.offset >= 0, !overflow, end <= arena.rowFloats else {
                throw PlanError.bufferOutsideArena(buffer: i, offset: b.offset, width: b.width, rowFloats: arena.rowFloats)
            }
            total += b.width  // cannot overflow: each width is at most rowFloats
        }
        guard arena.noReuseRowFloats == total else {
            throw PlanError.arenaSize(detail: "noReuseRowFloats is \(arena.noReuseRowFloats), the buffers' widths sum to \(total)")
        }
    }

    private func validateKVLayers() throws {
        for (i, k) in kvLayers.enumerated() {
            guard k.slot == i else { throw PlanError.kvSlots(detail: "entry \(i) has slot \(k.slot); entry i must be slot i") }
            guard k.kvHeads > 0, k.headDim > 0, k.block >= 0 else {
                throw PlanError.kvSlots(detail: "slot \(i) has kvHeads \(k.kvHeads), headDim \(k.headDim), block \(k.block); all must be positive (block >= 0)")
            }
        }
    }

    // MARK: Steps

    private func validateStep(_ s: Step, index i: Int) throws {
        let kernel = s.kernel.rawValue
        func mismatch(_ detail: String) -> PlanError { .shapeMismatch(step: i, kernel: kernel, detail: detail) }
        func attribute(_ detail: String) -> PlanError { .badAttribute(step: i, kernel: kernel, detail: detail) }

        // Indices.
        for (j, b) in s.inputs.enumerated() where b < 0 || b >= buffers.count {
            throw PlanError.indexOutOfRange(what: "step \(i) input \(j) (buffer)", index: b, count: buffers.count)
        }
        for (j, t) in s.weights.enumerated() where t < 0 || t >= tensors.count {
            throw PlanError.indexOutOfRange(what: "step \(i) weight \(j) (tensor)", index: t, count: tensors.count)
        }
        guard s.output >= 0, s.output < buffers.count else {
            throw PlanError.indexOutOfRange(what: "step \(i) output (buffer)", index: s.output, count: buffers.count)
        }
        if let b = s.block, b < 0 { throw attribute("block is \(b)") }
        if s.inputs.contains(s.output) { throw PlanError.inPlace(step: i, buffer: s.output) }

        // Arity. Matrix kernels: parts, then a bias (linear, qkv_rope), then the norm gain when `normGain`.
        let isMatrix = s.kernel == .linear || s.kernel == .qkvRope || s.kernel == .swiglu
        guard s.matrixParts >= 0, s.matrixParts <= 64, isMatrix || (s.matrixParts == 0 && !s.normGain) else {
            throw attribute("matrixParts \(s.matrixParts), normGain \(s.normGain): only linear, qkv_rope and swiglu have matrix parts (1...64) or a norm gain")
        }
        if s.normGain && s.eps == nil { throw attribute("normGain without eps: a norm gain needs the folded norm") }
        let extra = s.partCount - 1 + (s.normGain ? 1 : 0)
        let (inputs, weightCounts): (Int, ClosedRange<Int>) = {
            switch s.kernel {
            case .embed: return (0, 1...1)
            case .rmsNorm: return (1, 1...1)
            case .swiglu: return (1, (1 + extra)...(1 + extra))
            case .linear, .qkvRope: return (1, (1 + extra)...(2 + extra))
            case .rope, .silu, .attentionQKV: return (1, 0...0)
            case .attention: return (3, 0...0)
            case .mul, .add: return (2, 0...0)
            }
        }()
        guard s.inputs.count == inputs else {
            throw PlanError.arity(step: i, kernel: kernel, detail: "\(s.inputs.count) inputs, the kernel takes \(inputs)")
        }
        guard weightCounts.contains(s.weights.count) else {
            let expected = weightCounts.count == 1 ? "\(weightCounts.lowerBound)" : "\(weightCounts.lowerBound) or \(weightCounts.upperBound)"
            throw PlanError.arity(step: i, kernel: kernel, detail: "\(s.weights.count) weights, the kernel takes \(expected)")
        }

        // Operand widths and shapes. Matrices and the embedding table may be any dtype; vectors are f32.
        let x = s.inputs.map { buffers[$0].width }
        let w = s.weights.map { tensors[$0].shape }
        let out = buffers[s.output].width
        let roles = s.matrixRoles
        func matrix(_ j: Int, rows: Int, cols: Int, _ what: String) throws {
            guard isMatrix else {
                guard w[j] == [rows, cols] else { throw mismatch("\(what) has shape \(w[j]), expected [\(rows), \(cols)]") }
                return
            }
            // The parts, stacked by rows, make [rows, cols].
            var total = 0
            for p in roles.parts {
                guard w[p].count == 2, w[p][1] == cols else {
                    throw mismatch("\(what) part \(p - roles.parts.lowerBound) has shape \(w[p]), expected [_, \(cols)]")
                }
                total += w[p][0]
            }
            guard total == rows else { throw mismatch("\(what) parts have \(total) rows in all, expected \(rows)") }
            if let g = roles.gain { try vector(g, cols, "norm gain") }
        }
        func vector(_ j: Int, _ n: Int, _ what: String) throws {
            guard w[j] == [n] else { throw mismatch("\(what) has shape \(w[j]), expected [\(n)]") }
            guard tensors[s.weights[j]].dtype == .f32 else { throw mismatch("\(what) is \(tensors[s.weights[j]].dtype.rawValue), vectors must be f32") }
        }
        func sameWidths() throws {
            guard x.allSatisfy({ $0 == out }) else { throw mismatch("input widths \(x) and output width \(out) differ") }
        }
        func foldedNorm() throws {
            if let e = s.eps, !(e > 0 && e.isFinite) { throw attribute("eps is \(e), must be positive") }
        }
        /// heads, kvHeads, headDim positive and grouped; returns (q, kv) widths: heads*headDim, kvHeads*headDim.
        func heads() throws -> (q: Int, kv: Int) {
            guard s.heads > 0, s.kvHeads > 0, s.headDim > 0 else {
                throw attribute("heads \(s.heads), kvHeads \(s.kvHeads), headDim \(s.headDim) must be positive")
            }
            guard s.heads % s.kvHeads == 0 else { throw PlanError.headsNotMultipleOfKVHeads(step: i, heads: s.heads, kvHeads: s.kvHeads) }
            guard let q = checkedProduct([s.heads, s.headDim]), let kv = checkedProduct([s.kvHeads, s.headDim]),
                  q <= Int.max / 4, kv <= Int.max / 4 else {
                throw attribute("heads \(s.heads) x headDim \(s.headDim) is too large")
            }
            return (q, kv)
        }
        func rope() throws {
            guard s.headDim % 2 == 0 else { throw attribute("headDim \(s.headDim) is odd; rotary embedding needs pairs") }
            guard s.theta > 0, s.theta.isFinite else { throw attribute("theta is \(s.theta), must be positive") }
        }
        func kvSlot(_ kv: Int) throws {
            guard s.kvSlot >= 0, s.kvSlot < kvLayers.count else {
                throw PlanError.indexOutOfRange(what: "step \(i) kvSlot", index: s.kvSlot, count: kvLayers.count)
            }
            let layer = kvLayers[s.kvSlot]
            guard layer.kvHeads == s.kvHeads, layer.headDim == s.headDim else {
                throw PlanError.kvLayerMismatch(step: i, slot: s.kvSlot,
                    detail: "step has kvHeads \(s.kvHeads), headDim \(s.headDim); slot has \(layer.kvHeads), \(layer.headDim)")
            }
            if let b = s.block, b != layer.block {
                throw PlanError.kvLayerMismatch(step: i, slot: s.kvSlot, detail: "step is in block \(b), slot in block \(layer.block)")
            }
        }

        switch s.kernel {
        case .embed:
            try matrix(0, rows: model.vocabSize, cols: model.hidden, "embedding table")
            guard out == model.hidden else { throw mismatch("output width \(out), the hidden size is \(model.hidden)") }
        case .rmsNorm:
            guard let e = s.eps, e > 0, e.isFinite else { throw attribute("eps is \(s.eps.map { "\($0)" } ?? "missing"), must be positive") }
            try sameWidths()
            try vector(0, out, "norm weight")
        case .linear:
            try foldedNorm()
            try matrix(0, rows: out, cols: x[0], "weight")
            if let b = roles.bias { try vector(b, out, "bias") }
        case .rope:
            let (q, _) = try heads()
            try rope()
            try sameWidths()
            guard out == q else { throw mismatch("width \(out), heads x headDim is \(q)") }
        case .attention:
            let (q, kv) = try heads()
            guard x[0] == q, x[1] == kv, x[2] == kv, out == q else {
                throw mismatch("q, k, v, output widths \(x + [out]), expected [\(q), \(kv), \(kv), \(q)]")
            }
            try kvSlot(kv)
        case .silu, .mul, .add:
            try sameWidths()
        case .qkvRope:
            try foldedNorm()
            let (q, kv) = try heads()
            try rope()
            guard out == q + 2 * kv else { throw mismatch("output width \(out), (heads + 2 kvHeads) x headDim is \(q + 2 * kv)") }
            try matrix(0, rows: out, cols: x[0], "qkv weight")
            if let b = roles.bias { try vector(b, out, "qkv bias") }
        case .attentionQKV:
            let (q, kv) = try heads()
            guard x[0] == q + 2 * kv, out == q else {
                throw mismatch("qkv width \(x[0]) and output width \(out), expected \(q + 2 * kv) and \(q)")
            }
            try kvSlot(kv)
        case .swiglu:
            try foldedNorm()
            guard s.ffn > 0, s.ffn < Int.max / 2 else { throw attribute("ffn is \(s.ffn), must be positive") }
            guard out == s.ffn else { throw mismatch("output width \(out), ffn is \(s.ffn)") }
            try matrix(0, rows: 2 * s.ffn, cols: x[0], "gate/up weight")
        }
    }

    private func validateKVSlotUse() throws {
        var user = [Int?](repeating: nil, count: kvLayers.count)
        for (i, s) in steps.enumerated() where s.kernel == .attention || s.kernel == .attentionQKV {
            if let other = user[s.kvSlot] { throw PlanError.kvSlots(detail: "slot \(s.kvSlot) is used by steps \(other) and \(i)") }
            user[s.kvSlot] = i
        }
        if let unused = user.firstIndex(where: { $0 == nil }) {
            throw PlanError.kvSlots(detail: "slot \(unused) is used by no attention step")
        }
    }

    private func validateOutput() throws {
        guard output >= 0, output < buffers.count else {
            throw PlanError.indexOutOfRange(what: "output buffer", index: output, count: buffers.count)
        }
        guard buffers[output].width == model.vocabSize else {
            throw PlanError.outputWidth(buffer: output, width: buffers[output].width, vocabSize: model.vocabSize)
        }
    }

    // MARK: Liveness

    private func validateLiveness() throws {
        // A buffer is live over [first write, last use]; the output to the end.
        var first = [Int?](repeating: nil, count: buffers.count)
        var last = [Int](repeating: -1, count: buffers.count)
        for (i, s) in steps.enumerated() {
            for b in s.inputs {
                guard first[b] != nil else { throw PlanError.readBeforeWrite(step: i, buffer: b) }
                last[b] = i
            }
            if first[s.output] == nil { first[s.output] = i }
            last[s.output] = max(last[s.output], i)
        }
        guard first[output] != nil else { throw PlanError.readBeforeWrite(step: steps.count, buffer: output) }
        last[output] = steps.count

        // Sweep steps in order, keeping the live buffers sorted by start offset: a new buffer overlaps a live one
        // iff its float range intersects that buffer's.
        var startsAt = [[Int]](repeating: [], count: steps.count)
        for b in buffers.indices { if let f = first[b] { startsAt[f].append(b) } }
        var live: [Int] = []
        for i in steps.indices {
            live.removeAll { last[$0] < i }
            for b in startsAt[i] {
                let lo = buffers[b].offset, hi = lo + buffers[b].width
                if let other = live.first(where: { buffers[$0].offset < hi && lo < buffers[$0].offset + buffers[$0].width }) {
                    throw PlanError.liveBuffersOverlap(step: i, a: min(other, b), b: max(other, b))
                }
                live.append(b)
            }
        }
    }
}

/// The product of `xs`, or nil if it overflows `Int`.
private func checkedProduct(_ xs: [Int]) -> Int? {
    var p = 1
    for x in xs {
        let (r, overflow) = p.multipliedReportingOverflow(by: x)
        if overflow { return nil }
        p = r
    }
    return p
}
