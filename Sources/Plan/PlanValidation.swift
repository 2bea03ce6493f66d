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
//   7. steps: every index in range; per-kernel arity, widths, shapes and attributes (the kernel table, KernelTable.swift);
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
        let spec = s.kernel.spec, kernel = s.kernel.rawValue
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

        // Arity, from the kernel table. Matrix kernels: parts, then a bias (when the kernel has one), then the
        // norm gain when `normGain`.
        guard s.matrixParts >= 0, s.matrixParts <= 64, spec.isMatrix || (s.matrixParts == 0 && !s.normGain) else {
            let matrices = Kernel.allCases.filter { $0.spec.isMatrix }.map(\.rawValue).joined(separator: ", ")
            throw attribute("matrixParts \(s.matrixParts), normGain \(s.normGain): only \(matrices) have matrix parts (1...64) or a norm gain")
        }
        if s.normGain && s.eps == nil { throw attribute("normGain without eps: a norm gain needs the folded norm") }
        guard s.inputs.count == spec.inputs else {
            throw PlanError.arity(step: i, kernel: kernel, detail: "\(s.inputs.count) inputs, the kernel takes \(spec.inputs)")
        }
        let weightCounts = spec.weightCount(s)
        guard weightCounts.contains(s.weights.count) else {
            let expected = weightCounts.count == 1 ? "\(weightCounts.lowerBound)" : "\(weightCounts.lowerBound) or \(weightCounts.upperBound)"
            throw PlanError.arity(step: i, kernel: kernel, detail: "\(s.weights.count) weights, the kernel takes \(expected)")
        }

        // Widths, shapes and attributes: the kernel's own rule.
        try spec.check(StepChecker(plan: self, step: s, spec: spec, index: i))
    }

    private func validateKVSlotUse() throws {
        var user = [Int?](repeating: nil, count: kvLayers.count)
        for (i, s) in steps.enumerated() where s.kernel.spec.attends {
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
func checkedProduct(_ xs: [Int]) -> Int? {
    var p = 1
    for x in xs {
        let (r, overflow) = p.multipliedReportingOverflow(by: x)
        if overflow { return nil }
        p = r
    }
    return p
}
