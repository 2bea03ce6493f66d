// The verifier: checks every invariant below and reports each violation as a located diagnostic.
//
// Invariants (docs/IR.md repeats them; each diagnostic names the one it enforces):
//  Module
//   M1  metadata has `architecture`, `source.format` ("gguf" | "hf"), `source.path` and `source.sha256`
//       (64 hex digits), all strings; no metadata key appears twice.
//  Vocabulary
//   V1  model is `bpe`; size > 0; merges >= 0.
//   V2  every special token's id is in 0..<size.
//   V3  the id map, if any, has exactly `size` entries, non-negative and strictly increasing (monotone new -> old),
//       each below `source_size`; `source_size` (>= size) is given exactly when the id map is.
//  Blocks
//   B1  block indices are unique; hidden, heads, kv_heads, head_dim, ffn are positive; heads % kv_heads == 0.
//   B2  every block has the same hidden size (the residual stream is shared).
//  Parameters
//   P1  no parameter name is declared twice.
//   P2  every view of the chain applies, and the declared shape == derivedShape(); quantize(FORMAT) applies to a
//       matrix whose rows are whole blocks of FORMAT (32 elements for q8_0, q4_0, q4_1; any length for f16).
//   P3  the element type is a float type (f32, f16, bf16).
//   P4  a view that reads another parameter names a declared one whose own chain reads none: append_rows(@p, rows = N)
//       needs p of shape [N, cols] with the chain's cols ([N] for a vector); scale_cols(@g) needs g of shape [cols].
//  Function
//   F1  exactly one argument, `tensor<?xi32>`, with a non-numeric name (`%tokens`).
//   F2  SSA: every value is defined once; every value operand is defined by the argument or an earlier op;
//       the returned value is defined.
//   F3  the function returns `tensor<?xVxf32>` with V == vocabulary.size.
//  Ops
//   O1  operand kinds and count match the op kind (embed: @table, %tokens; rms_norm: %x, @w; linear: %x, @w[, @b];
//       rope, silu: %x; attention: %q, %k, %v; add, mul: %a, %b; qkv_rope: %x, @w[, @b]; attention_qkv: %qkv;
//       swiglu: %x, @w).
//   O2  every parameter operand is declared, with the rank the op needs (table [V, H], norm weight [n],
//       linear weight [out, in], bias [out]) and matching widths (norm n == x's width, linear in == x's width,
//       bias out == weight out).
//   O3  required attributes are present, of the right kind and in range (rms_norm eps >= 0; rope heads, head_dim
//       > 0, head_dim even, theta > 0; attention heads, kv_heads, head_dim > 0, kv_slot >= 0, heads % kv_heads == 0);
//       lowered ops: qkv_rope as rope plus kv_heads; attention_qkv as attention; an optional `eps` (folded norm) on
//       linear, qkv_rope and swiglu is >= 0; an optional `arena_offset` (plan-memory) on any op is >= 0;
//       other attributes are warned about.
//   O4  value operands are f32 activations `[?, n]` (embed's tokens: `tensor<?xi32>`), rope's width is
//       heads * head_dim, attention's q width heads * head_dim and k, v widths kv_heads * head_dim, add and mul
//       operands have equal types; qkv_rope's weight is [(heads + 2·kv_heads)·head_dim, in] (bias the same rows),
//       attention_qkv's input that width, swiglu's weight [2·ffn, in]; and the result type equals the type the op
//       computes from its operands.
//   O5  an op's block is declared; in block b: rope and attention heads/kv_heads/head_dim equal b's dims
//       (rope heads is b.heads or b.kv_heads); rms_norm and add width == b.hidden; silu and mul width == b.ffn
//       (the FFN channel shared by gate, up and down); qkv_rope and attention_qkv dims equal b's; swiglu's width is
//       b.ffn. Outside blocks, rms_norm width == the blocks' hidden.
//   O6  the embedding table has vocabulary.size rows and the blocks' hidden columns.
//   O7  attention kv_slot values are unique and dense: n attention ops use exactly 0..<n.
import Foundation

/// Checks a module's invariants (listed in Verifier.swift and docs/IR.md). Returns every violation, errors and
/// warnings, in a deterministic order; an empty result (or one with only warnings) means the module is valid.
/// Pass the `SourceMap` from `parseModuleWithSourceMap` to locate declarations in text.
public func verify(_ m: Module, sourceMap: SourceMap? = nil) -> [Diagnostic] {
    var v = IRVerifier(module: m, map: sourceMap)
    v.run()
    return v.diagnostics
}

/// Verifies a module and throws `VerificationError` (carrying every diagnostic) if there is any error.
public func verifyOrThrow(_ m: Module, sourceMap: SourceMap? = nil) throws {
    let d = verify(m, sourceMap: sourceMap)
    if d.contains(where: { $0.severity == .error }) { throw VerificationError(diagnostics: d) }
}

private struct IRVerifier {
    let module: Module
    let map: SourceMap?
    var diagnostics: [Diagnostic] = []

    init(module: Module, map: SourceMap?) {
        self.module = module
        self.map = map
    }

    mutating func error(_ msg: String, _ at: DiagnosticLocation, notes: [Diagnostic] = []) {
        diagnostics.append(Diagnostic(.error, msg, at: at, notes: notes))
    }

    // MARK: Locations

    func at(_ loc: SourceLocation?, _ entity: @autoclosure () -> String) -> DiagnosticLocation {
        loc.map { .source($0) } ?? .entity(entity())
    }

    func element<T>(_ a: [T]?, _ i: Int) -> T? {
        guard let a, i >= 0, i < a.count else { return nil }
        return a[i]
    }

    var moduleAt: DiagnosticLocation { at(map?.module, "module @\(spellName(module.name))") }
    var metadataAt: DiagnosticLocation { at(map?.metadata ?? map?.module, "metadata") }
    func metadataAt(_ i: Int) -> DiagnosticLocation {
        at(element(map?.metadataEntries, i), "metadata \(spellKey(module.metadata[i].key))")
    }
    var vocabularyAt: DiagnosticLocation { at(map?.vocabulary, "vocabulary") }
    func specialAt(_ i: Int) -> DiagnosticLocation {
        at(element(map?.specials, i) ?? map?.vocabulary, "vocabulary: special \(spellKey(module.vocabulary.specials[i].role))")
    }
    var idMapAt: DiagnosticLocation { at(map?.idMap ?? map?.vocabulary, "vocabulary: id_map") }
    func blockAt(_ i: Int) -> DiagnosticLocation { at(element(map?.blocks, i), "block \(module.blocks[i].index)") }
    func paramAt(_ i: Int) -> DiagnosticLocation {
        at(element(map?.parameters, i), "param @\(spellName(module.parameters[i].name))")
    }
    var functionAt: DiagnosticLocation { at(map?.function, "func @\(spellName(module.function.name))") }
    var returnAt: DiagnosticLocation { at(map?.returnValue ?? map?.function, "\(module.function.name): return") }
    func opAt(_ i: Int) -> DiagnosticLocation {
        let op = module.function.ops[i]
        let block = op.block.map { ", block \($0)" } ?? ""
        return at(op.location, "\(module.function.name): %\(i) (\(op.kind.rawValue)\(block))")
    }

    // MARK: Run

    mutating func run() {
        checkMetadata()
        checkVocabulary()
        checkBlocks()
        checkParameters()
        checkFunction()
    }

    mutating func checkMetadata() {
        var seen: [String: Int] = [:]
        for (i, e) in module.metadata.enumerated() {
            if let first = seen[e.key] {
                error("metadata key '\(e.key)' appears twice", metadataAt(i),
                      notes: [Diagnostic(.note, "first given here", at: metadataAt(first))])
            } else {
                seen[e.key] = i
            }
        }
        for key in [MetaKey.architecture, MetaKey.sourceFormat, MetaKey.sourcePath, MetaKey.sourceSHA256] {
            guard let i = seen[key] else {
                error("metadata lacks '\(key)'", metadataAt)
                continue
            }
            guard let s = module.metadata[i].value.stringValue else {
                error("metadata '\(key)' must be a string, found \(module.metadata[i].value)", metadataAt(i))
                continue
            }
            if key == MetaKey.sourceFormat && s != "gguf" && s != "hf" {
                error("metadata 'source.format' must be \"gguf\" or \"hf\", found \(quoteIRString(s))", metadataAt(i))
            }
            if key == MetaKey.sourceSHA256 && !(s.utf8.count == 64 && s.utf8.allSatisfy(isHexDigit)) {
                error("metadata 'source.sha256' must be 64 hex digits, found \(quoteIRString(s))", metadataAt(i))
            }
        }
    }

    mutating func checkVocabulary() {
        let v = module.vocabulary
        if v.model != "bpe" { error("vocabulary model '\(v.model)' is not supported; Pare supports 'bpe'", vocabularyAt) }
        if v.size <= 0 { error("vocabulary size must be positive, found \(v.size)", vocabularyAt) }
        if v.mergeCount < 0 { error("vocabulary merges must be non-negative, found \(v.mergeCount)", vocabularyAt) }
        for (i, s) in v.specials.enumerated() where s.id < 0 || s.id >= v.size {
            error("special token '\(s.role)' has id \(s.id), outside the vocabulary 0..<\(v.size)", specialAt(i))
        }
        if let idMap = v.idMap {
            if idMap.count != v.size {
                error("id_map has \(idMap.count) entries but the vocabulary size is \(v.size)", idMapAt)
            }
            if let neg = idMap.first(where: { $0 < 0 }) { error("id_map has negative id \(neg)", idMapAt) }
            if !idMap.isStrictlyIncreasing {
                let i = (0..<(idMap.count - 1)).first { idMap[$0] >= idMap[$0 + 1] } ?? 0
                error("id_map must be strictly increasing, but entry \(i + 1) (\(idMap[i + 1])) follows \(idMap[i])", idMapAt)
            }
            if let source = v.sourceSize {
                if source < v.size {
                    error("vocabulary source_size \(source) is smaller than its size \(v.size); a pruned vocabulary keeps a "
                          + "subset of the source's ids", vocabularyAt)
                } else if let i = (0..<idMap.count).first(where: { idMap[$0] >= source }) {
                    error("id_map entry \(i) is \(idMap[i]), not below the source vocabulary's size (source_size = \(source))", idMapAt)
                }
            } else {
                error("a vocabulary with an id_map needs source_size, the size of the source checkpoint's vocabulary (the range of "
                      + "the id map); add `source_size = N` to its header or run `pare opt` again", vocabularyAt)
            }
        } else if let source = v.sourceSize {
            error("vocabulary source_size = \(source) without an id_map; only a pruned vocabulary names its source's size", vocabularyAt)
        }
    }

    mutating func checkBlocks() {
        var seen: [Int: Int] = [:]
        for (i, b) in module.blocks.enumerated() {
            if let first = seen[b.index] {
                error("block \(b.index) declared twice", blockAt(i), notes: [Diagnostic(.note, "first declared here", at: blockAt(first))])
            } else {
                seen[b.index] = i
            }
            let dims = [("hidden", b.hidden), ("heads", b.heads), ("kv_heads", b.kvHeads), ("head_dim", b.headDim), ("ffn", b.ffn)]
            for (k, n) in dims where n <= 0 { error("block \(b.index): \(k) must be positive, found \(n)", blockAt(i)) }
            if b.heads > 0 && b.kvHeads > 0 && b.heads % b.kvHeads != 0 {
                error("block \(b.index): heads (\(b.heads)) must be a multiple of kv_heads (\(b.kvHeads))", blockAt(i))
            }
            if let first = module.blocks.first, b.hidden != first.hidden {
                error("block \(b.index): hidden \(b.hidden) differs from block \(first.index)'s \(first.hidden); "
                      + "all blocks share the residual stream", blockAt(i))
            }
        }
    }

    mutating func checkParameters() {
        var seen: [String: Int] = [:]
        for (i, p) in module.parameters.enumerated() {
            if let first = seen[p.name] {
                error("parameter @\(spellName(p.name)) declared twice", paramAt(i),
                      notes: [Diagnostic(.note, "first declared here", at: paramAt(first))])
            } else {
                seen[p.name] = i
            }
            if p.dtype == .i32 { error("parameter @\(spellName(p.name)) must have a float element type, found i32", paramAt(i)) }
            var shape = p.source.shape
            var ok = true
            for (k, view) in p.views.enumerated() {
                guard let s = view.apply(to: shape) else {
                    error("view \(k + 1) (\(describe(view))) of @\(spellName(p.name)) does not apply to shape \(shape)", paramAt(i))
                    ok = false
                    break
                }
                if !checkReference(view, number: k + 1, of: p, at: i, shape: shape) { ok = false; break }
                shape = s
            }
            if ok && shape != p.shape {
                error("parameter @\(spellName(p.name)) is declared \(p.shape) but its source \(p.source.shape) and views give \(shape)",
                      paramAt(i))
            }
        }
    }

    /// P4 for one view of `p` applied to `shape`; false (after reporting) when it is wrong.
    mutating func checkReference(_ view: ParameterView, number k: Int, of p: Parameter, at i: Int, shape: [Int]) -> Bool {
        guard let ref = view.references.first else { return true }
        let what = "view \(k) (\(describe(view))) of @\(spellName(p.name))"
        guard let q = module.parameter(ref) else {
            error("\(what) reads @\(spellName(ref)), which is not declared", paramAt(i))
            return false
        }
        guard q.references.isEmpty else {
            error("\(what) reads @\(spellName(ref)), whose own views read other parameters; pack from loaded parameters only",
                  paramAt(i))
            return false
        }
        switch view {
        case .appendRows(_, let rows):
            let expected = shape.count == 1 ? [rows] : [rows, shape.last ?? 0]
            guard q.shape == expected else {
                error("\(what) appends @\(spellName(ref)) of shape \(q.shape), expected \(expected)", paramAt(i))
                return false
            }
        case .scaleCols:
            guard q.shape == [shape.last ?? 0] else {
                error("\(what) scales \(shape.last ?? 0) columns by @\(spellName(ref)) of shape \(q.shape), expected [\(shape.last ?? 0)]",
                      paramAt(i))
                return false
            }
        default: break
        }
        return true
    }

    func describe(_ v: ParameterView) -> String {
        switch v {
        case .rows(let idx): return "rows(\(idx.count) indices)"
        case .cols(let idx): return "cols(\(idx.count) indices)"
        case .unpermuteRoPE(let h): return "unpermute_rope(heads = \(h))"
        case .appendRows(let q, let rows): return "append_rows(@\(spellName(q)), rows = \(rows))"
        case .scaleCols(let q): return "scale_cols(@\(spellName(q)))"
        case .quantize(let f): return "quantize(\(f))"
        }
    }

    // MARK: Function

    mutating func checkFunction() {
        let f = module.function
        if f.arguments.count != 1 {
            error("@\(spellName(f.name)) must take exactly one argument (the token ids), found \(f.arguments.count)", functionAt)
        }
        var defined: [Value: (type: TensorType, where: String)] = [:]
        var definedAt: [Value: DiagnosticLocation] = [:]
        for (i, a) in f.arguments.enumerated() {
            let loc = at(element(map?.arguments, i), "\(f.name): argument %\(spellName(a.name))")
            if a.type != TensorType([.seq], .i32) { error("argument %\(spellName(a.name)) must be tensor<?xi32>, found \(a.type)", loc) }
            if a.name.isEmpty || a.name.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
                error("argument name '\(a.name)' must not be empty or numeric (numbers name op results)", loc)
            }
            if let prev = definedAt[a.value] {
                error("argument %\(spellName(a.name)) reuses value \(a.value)", loc, notes: [Diagnostic(.note, "first defined here", at: prev)])
            }
            defined[a.value] = (a.type, "argument")
            definedAt[a.value] = loc
        }

        let allResults = Dictionary(f.ops.enumerated().map { ($1.result, $0) }, uniquingKeysWith: { a, _ in a })
        var slots: [Int: Int] = [:]
        let attentionCount = f.ops.filter { $0.kind.isAttention }.count
        for (i, op) in f.ops.enumerated() {
            var operandTypes: [TensorType?] = []
            for o in op.operands {
                guard case .value(let v) = o else { operandTypes.append(nil); continue }
                if let d = defined[v] {
                    operandTypes.append(d.type)
                } else if let later = allResults[v] {
                    error("value %\(later) is used before its definition", opAt(i), notes: [Diagnostic(.note, "defined here", at: opAt(later))])
                    operandTypes.append(nil)
                } else {
                    error("operand \(v) is never defined", opAt(i))
                    operandTypes.append(nil)
                }
            }
            checkOp(i, op, operandTypes)
            if op.kind.isAttention, let s = op.int("kv_slot"), s >= 0 {
                if s >= attentionCount {
                    error("kv_slot \(s) is out of range: \(attentionCount) attention op\(attentionCount == 1 ? "" : "s") use slots 0..<\(attentionCount)",
                          opAt(i))
                } else if let first = slots[s] {
                    error("kv_slot \(s) is already used by %\(first)", opAt(i), notes: [Diagnostic(.note, "first used here", at: opAt(first))])
                } else {
                    slots[s] = i
                }
            }
            if let prev = definedAt[op.result] {
                error("value \(op.result) is defined twice", opAt(i), notes: [Diagnostic(.note, "first defined here", at: prev)])
            }
            defined[op.result] = (op.type, "op")
            definedAt[op.result] = opAt(i)
        }

        guard let r = defined[f.result] else {
            error("the returned value \(f.result) is not defined", returnAt)
            return
        }
        let expected = TensorType([.seq, .fixed(module.vocabulary.size)], .f32)
        if r.type != expected {
            error("@\(spellName(f.name)) must return \(expected) (logits over the vocabulary of \(module.vocabulary.size)), "
                  + "returns \(r.type)", returnAt)
        }
    }

    // MARK: Ops

    /// The blocks' shared hidden size, if any block is declared.
    var hidden: Int? { module.blocks.first?.hidden }

    func param(_ name: String) -> Parameter? { module.parameter(name) }

    mutating func checkOp(_ i: Int, _ op: Op, _ types: [TensorType?]) {
        let loc = opAt(i)
        let kind = op.kind.rawValue

        // O1: operand kinds and count.
        let pattern: [Character]
        let signature: String
        switch op.kind {
        case .embed: (pattern, signature) = (["@", "%"], "@table, %tokens")
        case .rmsNorm: (pattern, signature) = (["%", "@"], "%x, @weight")
        case .linear:
            (pattern, signature) = (op.operands.count == 3 ? ["%", "@", "@"] : ["%", "@"], "%x, @weight[, @bias]")
        case .rope, .silu: (pattern, signature) = (["%"], "%x")
        case .attention: (pattern, signature) = (["%", "%", "%"], "%q, %k, %v")
        case .add, .mul: (pattern, signature) = (["%", "%"], "%a, %b")
        case .qkvRope:
            (pattern, signature) = (op.operands.count == 3 ? ["%", "@", "@"] : ["%", "@"], "%x, @weight[, @bias]")
        case .attentionQKV: (pattern, signature) = (["%"], "%qkv")
        case .swiglu: (pattern, signature) = (["%", "@"], "%x, @weight")
        }
        let actual = op.operands.map { $0.value != nil ? Character("%") : Character("@") }
        guard actual == pattern else {
            error("\(kind) takes (\(signature)), found (\(actual.map { String($0) }.joined(separator: ", ")))", loc)
            return
        }

        // O2: parameters declared.
        var params: [Parameter] = []
        for name in op.paramOperands {
            guard let p = param(name) else {
                error("\(kind) uses undeclared parameter @\(spellName(name))", loc)
                return
            }
            params.append(p)
        }

        // O3: attributes.
        var allowed: [String]
        switch op.kind {
        case .rmsNorm: allowed = ["eps"]
        case .rope: allowed = ["heads", "head_dim", "theta"]
        case .attention, .attentionQKV: allowed = ["heads", "kv_heads", "head_dim", "kv_slot"]
        case .embed, .silu, .mul, .add: allowed = []
        case .linear, .swiglu: allowed = ["eps"]
        case .qkvRope: allowed = ["eps", "heads", "kv_heads", "head_dim", "theta"]
        }
        allowed.append("arena_offset")
        for k in op.attributes.keys.sorted() where !allowed.contains(k) {
            diagnostics.append(Diagnostic(.warning, "unknown attribute '\(k)' on \(kind) is ignored"
                + (allowed.count == 1 ? "" : "; \(kind) takes \(allowed.dropLast().joined(separator: ", "))"), at: loc))
        }
        var attrsOK = true
        func int(_ k: String, min: Int) -> Int? {
            guard let a = op.attributes[k] else {
                error("\(kind) lacks attribute '\(k)'", loc)
                attrsOK = false
                return nil
            }
            guard let n = a.intValue else {
                error("\(kind) attribute '\(k)' must be an integer, found \(a)", loc)
                attrsOK = false
                return nil
            }
            guard n >= min else {
                error("\(kind) attribute '\(k)' must be \(min == 0 ? "non-negative" : "positive"), found \(n)", loc)
                attrsOK = false
                return nil
            }
            return n
        }
        func number(_ k: String, positive: Bool) -> Double? {
            guard let a = op.attributes[k] else {
                error("\(kind) lacks attribute '\(k)'", loc)
                attrsOK = false
                return nil
            }
            guard let d = a.doubleValue, d.isFinite, positive ? d > 0 : d >= 0 else {
                error("\(kind) attribute '\(k)' must be a \(positive ? "positive" : "non-negative") finite number, found \(a)", loc)
                attrsOK = false
                return nil
            }
            return d
        }
        var heads = 0, kvHeads = 0, headDim = 0
        if op.attributes["arena_offset"] != nil { _ = int("arena_offset", min: 0) }
        if op.kind != .rmsNorm, op.attributes["eps"] != nil { _ = number("eps", positive: false) }
        switch op.kind {
        case .rmsNorm:
            _ = number("eps", positive: false)
        case .rope:
            heads = int("heads", min: 1) ?? 0
            headDim = int("head_dim", min: 1) ?? 0
            _ = number("theta", positive: true)
            if headDim % 2 != 0 { error("rope head_dim must be even, found \(headDim)", loc); attrsOK = false }
        case .attention, .attentionQKV, .qkvRope:
            heads = int("heads", min: 1) ?? 0
            kvHeads = int("kv_heads", min: 1) ?? 0
            headDim = int("head_dim", min: 1) ?? 0
            if op.kind == .qkvRope {
                _ = number("theta", positive: true)
                if headDim % 2 != 0 { error("qkv_rope head_dim must be even, found \(headDim)", loc); attrsOK = false }
            } else {
                _ = int("kv_slot", min: 0)
            }
            if heads > 0 && kvHeads > 0 && heads % kvHeads != 0 {
                error("\(kind) heads (\(heads)) must be a multiple of kv_heads (\(kvHeads))", loc)
                attrsOK = false
            }
        default: break
        }

        // O4: operand types, then the computed result type.
        let activation = { (t: TensorType) -> Bool in t.dtype == .f32 && t.rank == 2 && t.shape[0] == .seq && t.shape[1].size != nil }
        var valueTypes: [TensorType] = []
        for (t, o) in zip(types, op.operands) where o.value != nil {
            guard let t else { return }  // undefined operand: already reported
            valueTypes.append(t)
        }
        for (k, t) in valueTypes.enumerated() {
            if op.kind == .embed {
                if t != TensorType([.seq], .i32) { error("embed's tokens must be tensor<?xi32>, found \(t)", loc); return }
            } else if !activation(t) {
                error("\(kind) operand \(k + 1) must be an f32 activation tensor<?xNxf32>, found \(t)", loc)
                return
            }
        }
        func width(_ t: TensorType) -> Int { t.shape.last?.size ?? 0 }
        var computed: TensorType?
        switch op.kind {
        case .embed:
            let table = params[0]
            guard table.shape.count == 2 else {
                error("embed table @\(spellName(table.name)) must be [rows, hidden], found \(table.shape)", loc)
                return
            }
            if table.shape[0] != module.vocabulary.size {
                error("embed table @\(spellName(table.name)) has \(table.shape[0]) rows but the vocabulary has \(module.vocabulary.size) tokens", loc)
            }
            if let h = hidden, table.shape[1] != h {
                error("embed table @\(spellName(table.name)) has width \(table.shape[1]) but the blocks' hidden is \(h)", loc)
            }
            computed = .activations(table.shape[1])
        case .rmsNorm:
            let x = valueTypes[0], w = params[0]
            guard w.shape == [width(x)] else {
                error("rms_norm weight @\(spellName(w.name)) must be [\(width(x))] to match its input, found \(w.shape)", loc)
                return
            }
            computed = x
        case .linear:
            let x = valueTypes[0], w = params[0]
            guard w.shape.count == 2 else {
                error("linear weight @\(spellName(w.name)) must be [out, in], found \(w.shape)", loc)
                return
            }
            guard w.shape[1] == width(x) else {
                error("linear weight @\(spellName(w.name)) is [\(w.shape[0]), \(w.shape[1])] but its input has width \(width(x))", loc)
                return
            }
            if params.count == 2, params[1].shape != [w.shape[0]] {
                error("linear bias @\(spellName(params[1].name)) must be [\(w.shape[0])], found \(params[1].shape)", loc)
            }
            computed = .activations(w.shape[0])
        case .rope:
            let x = valueTypes[0]
            if attrsOK && width(x) != heads * headDim {
                error("rope input width \(width(x)) != heads * head_dim = \(heads) * \(headDim)", loc)
            }
            computed = x
        case .attention:
            let (q, k, v) = (valueTypes[0], valueTypes[1], valueTypes[2])
            if attrsOK {
                if width(q) != heads * headDim {
                    error("attention q width \(width(q)) != heads * head_dim = \(heads) * \(headDim)", loc)
                }
                for (name, t) in [("k", k), ("v", v)] where width(t) != kvHeads * headDim {
                    error("attention \(name) width \(width(t)) != kv_heads * head_dim = \(kvHeads) * \(headDim)", loc)
                }
            }
            computed = attrsOK ? .activations(heads * headDim) : nil
        case .silu:
            computed = valueTypes[0]
        case .qkvRope:
            let x = valueTypes[0], w = params[0]
            let rows = (heads + 2 * kvHeads) * headDim
            guard w.shape.count == 2, w.shape[1] == width(x), !attrsOK || w.shape[0] == rows else {
                error("qkv_rope weight @\(spellName(w.name)) must be [\(attrsOK ? String(rows) : "(heads + 2*kv_heads)*head_dim"), \(width(x))], found \(w.shape)", loc)
                return
            }
            if params.count == 2, params[1].shape != [w.shape[0]] {
                error("qkv_rope bias @\(spellName(params[1].name)) must be [\(w.shape[0])], found \(params[1].shape)", loc)
            }
            computed = .activations(w.shape[0])
        case .attentionQKV:
            if attrsOK && width(valueTypes[0]) != (heads + 2 * kvHeads) * headDim {
                error("attention_qkv input width \(width(valueTypes[0])) != (heads + 2*kv_heads) * head_dim = \((heads + 2 * kvHeads) * headDim)", loc)
            }
            computed = attrsOK ? .activations(heads * headDim) : nil
        case .swiglu:
            let x = valueTypes[0], w = params[0]
            guard w.shape.count == 2, w.shape[0] % 2 == 0, w.shape[1] == width(x) else {
                error("swiglu weight @\(spellName(w.name)) must be [2*ffn, \(width(x))] (gate rows, then up rows), found \(w.shape)", loc)
                return
            }
            computed = .activations(w.shape[0] / 2)
        case .add, .mul:
            if valueTypes[0] != valueTypes[1] {
                error("\(kind) operands must have the same type, found \(valueTypes[0]) and \(valueTypes[1])", loc)
                return
            }
            computed = valueTypes[0]
        }
        if let computed, computed != op.type {
            error("\(kind) result type \(op.type) does not match the computed type \(computed)", loc)
        }

        // O5: the block's dims.
        guard let bi = op.block else {
            if op.kind == .rmsNorm, let h = hidden, width(op.type) != h {
                error("rms_norm outside blocks has width \(width(op.type)) but the blocks' hidden is \(h)", loc)
            }
            return
        }
        guard let b = module.block(bi) else {
            error("\(kind) belongs to block \(bi), which is not declared", loc)
            return
        }
        let w = width(op.type)
        switch op.kind {
        case .rope where attrsOK:
            if heads != b.heads && heads != b.kvHeads {
                error("rope heads \(heads) is neither block \(bi)'s heads (\(b.heads)) nor kv_heads (\(b.kvHeads))", loc)
            }
            if headDim != b.headDim { error("rope head_dim \(headDim) != block \(bi)'s head_dim \(b.headDim)", loc) }
        case .attention where attrsOK, .attentionQKV where attrsOK, .qkvRope where attrsOK:
            for (k, a, d) in [("heads", heads, b.heads), ("kv_heads", kvHeads, b.kvHeads), ("head_dim", headDim, b.headDim)] where a != d {
                error("\(kind) \(k) \(a) != block \(bi)'s \(k) \(d)", loc)
            }
        case .rmsNorm, .add:
            if w != b.hidden { error("\(kind) in block \(bi) has width \(w) but the block's hidden is \(b.hidden)", loc) }
        case .silu, .mul, .swiglu:
            if w != b.ffn { error("\(kind) in block \(bi) has width \(w) but the block's ffn is \(b.ffn)", loc) }
        default: break
        }
    }
}

private func isHexDigit(_ b: UInt8) -> Bool {
    (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46)
}
