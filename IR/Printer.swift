// The printer: a module's canonical text form (docs/IR.md). Deterministic; never prints weights.

/// The first line of every printed module; the parser rejects other versions.
public let irTextHeader = "// pare ir v1"

/// Prints a module in its canonical text form. Values are renumbered `%0, %1, ...` in op order (arguments keep
/// their names), op attributes are sorted by name, metadata keeps its stored order, parameters their declaration
/// order. Printing the same module twice gives the same bytes; `parseModule` reads it back.
public func printModule(_ m: Module) -> String {
    var p = IRPrinter(module: m)
    p.run()
    return p.out
}

extension Module {
    /// The module's canonical text form (`printModule(self)`).
    public var text: String { printModule(self) }

    /// The module with values renumbered as the parser numbers them: arguments `0..<k` in order, then op results
    /// `k, k+1, ...` in op order. `parseModule(printModule(m)) == m.canonicalized()` for every printable module.
    /// Values used but never defined get fresh ids after all defined ones.
    public func canonicalized() -> Module {
        var map: [Value: Value] = [:]
        var next = 0
        func fresh() -> Value { defer { next += 1 }; return Value(next) }
        var m = self
        for i in m.function.arguments.indices {
            let v = fresh()
            map[m.function.arguments[i].value] = v
            m.function.arguments[i].value = v
        }
        var results: [Value] = []
        for op in m.function.ops {
            let v = fresh()
            results.append(v)
            map[op.result] = v
        }
        func mapped(_ v: Value) -> Value {
            if let n = map[v] { return n }
            let n = fresh()
            map[v] = n
            return n
        }
        for i in m.function.ops.indices {
            m.function.ops[i].operands = m.function.ops[i].operands.map { o in
                if case .value(let v) = o { return .value(mapped(v)) }
                return o
            }
            m.function.ops[i].result = results[i]
        }
        m.function.result = mapped(m.function.result)
        return m
    }
}

// MARK: - Spelling of names

/// True for a byte that may appear in a bare `@symbol` or `%value` name: letters, digits, `_`, `.`, `-`.
@inline(__always) func isNameByte(_ b: UInt8) -> Bool {
    (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == 0x5F || b == 0x2E || b == 0x2D
}

/// True for a byte that may start a bare identifier (keys, op names, dtypes): letters and `_`.
@inline(__always) func isIdentifierStart(_ b: UInt8) -> Bool {
    (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || b == 0x5F
}

/// `name` as it follows `@` or `%`: bare when it is only name characters, else quoted.
func spellName(_ name: String) -> String {
    let u = Array(name.utf8)
    return !u.isEmpty && u.allSatisfy(isNameByte) ? name : quoteIRString(name)
}

/// A key, role or encoding: bare when it is an identifier (`source.format`, `q4_k`), else quoted.
func spellKey(_ key: String) -> String {
    let u = Array(key.utf8)
    guard let first = u.first, isIdentifierStart(first), u.allSatisfy(isNameByte) else { return quoteIRString(key) }
    return key
}

// MARK: - The printer

private struct IRPrinter {
    let module: Module
    var out = ""
    /// Printed names of values defined so far (arguments and op results), by value.
    var names: [Value: String] = [:]
    /// Printed names of every op result, for values used before their definition (invalid IR still prints).
    var laterNames: [Value: String] = [:]

    init(module: Module) { self.module = module }

    mutating func line(_ indent: Int, _ s: String) {
        out += String(repeating: "  ", count: indent) + s + "\n"
    }

    mutating func run() {
        let m = module
        line(0, irTextHeader)
        line(0, "module @\(spellName(m.name)) {")

        if m.metadata.isEmpty {
            line(1, "metadata {}")
        } else {
            line(1, "metadata {")
            for (k, v) in m.metadata { line(2, "\(spellKey(k)) = \(v)") }
            line(1, "}")
        }

        let v = m.vocabulary
        let header = "vocabulary \(spellKey(v.model)) {size = \(v.size), merges = \(v.mergeCount), "
            + "pre_tokenizer = \(quoteIRString(v.preTokenizer))" + (v.sourceSize.map { ", source_size = \($0)" } ?? "") + "}"
        if v.specials.isEmpty && v.idMap == nil {
            line(1, header)
        } else {
            line(1, header + " {")
            for s in v.specials { line(2, "special \(spellKey(s.role)) = \(s.id) \(quoteIRString(s.text))") }
            if let map = v.idMap { line(2, "id_map = \(map)") }
            line(1, "}")
        }

        if !m.blocks.isEmpty { out += "\n" }
        for b in m.blocks {
            line(1, "block \(b.index) {hidden = \(b.hidden), heads = \(b.heads), kv_heads = \(b.kvHeads), "
                + "head_dim = \(b.headDim), ffn = \(b.ffn)}")
        }

        if !m.parameters.isEmpty { out += "\n" }
        for p in m.parameters { line(1, parameterLine(p)) }

        out += "\n"
        function(m.function)
        line(0, "}")
    }

    func parameterLine(_ p: Parameter) -> String {
        let type = TensorType(p.shape.map { .fixed($0) }, p.dtype)
        let src = p.source
        var s = "param @\(spellName(p.name)) : \(type) = load \(quoteIRString(src.tensor)) \(spellKey(src.encoding)) "
            + "[" + src.shape.map(String.init).joined(separator: ", ") + "]"
        for v in p.views {
            switch v {
            case .rows(let idx): s += " | rows(\(idx))"
            case .cols(let idx): s += " | cols(\(idx))"
            case .unpermuteRoPE(let heads): s += " | unpermute_rope(heads = \(heads))"
            case .appendRows(let q, let rows): s += " | append_rows(@\(spellName(q)), rows = \(rows))"
            case .scaleCols(let q): s += " | scale_cols(@\(spellName(q)))"
            case .quantize(let f): s += " | quantize(\(f))"
            }
        }
        return s
    }

    func name(_ v: Value) -> String {
        names[v] ?? laterNames[v] ?? "%undefined.\(v.id)"
    }

    mutating func function(_ f: Function) {
        for (i, op) in f.ops.enumerated() where laterNames[op.result] == nil { laterNames[op.result] = "%\(i)" }
        var args: [String] = []
        for a in f.arguments {
            let n = "%" + spellName(a.name)
            names[a.value] = n
            args.append("\(n): \(a.type)")
        }
        let resultType = f.type(of: f.result).map(\.description) ?? "<undefined>"
        line(1, "func @\(spellName(f.name))(\(args.joined(separator: ", "))) -> \(resultType) {")
        for (i, op) in f.ops.enumerated() {
            let operands = op.operands.map { o -> String in
                switch o {
                case .value(let v): return name(v)
                case .param(let p): return "@" + spellName(p)
                }
            }
            var s = "%\(i) = \(op.kind.rawValue) " + operands.joined(separator: ", ")
            if !op.attributes.isEmpty {
                s += " {" + op.attributes.sorted { $0.key < $1.key }.map { "\(spellKey($0.key)) = \($0.value)" }
                    .joined(separator: ", ") + "}"
            }
            if let b = op.block { s += " block \(b)" }
            s += " : \(op.type)"
            line(2, s)
            names[op.result] = "%\(i)"
        }
        line(2, "return \(name(f.result))")
        line(1, "}")
    }
}
