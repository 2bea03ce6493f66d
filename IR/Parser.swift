// The parser: reads the text form back into a Module, with located errors (`file:line:col: error: ...`).
import Foundation

/// An error in IR text, located at the offending token: `model.pir:12:5: error: unknown op 'gelu'; ...`.
public struct IRParseError: Error, LocalizedError, Sendable, Equatable {
    /// What kind of mistake the text has.
    public enum Kind: String, Sendable, Hashable {
        /// A token other than the one the grammar needs here.
        case unexpectedToken
        /// An op name that is not one of `OpKind`.
        case unknownOp
        /// A `%value` used before (or without) its definition.
        case undefinedValue
        /// A `%value` defined twice.
        case redefinedValue
        /// Malformed `tensor<...>` syntax, or a type that does not fit (a dynamic parameter shape, a wrong return type).
        case badType
        /// A malformed number, escape or index range.
        case badLiteral
        /// A string literal with no closing quote on its line.
        case unterminatedString
        /// A section, key or attribute given twice.
        case duplicate
        /// A required section, key or attribute that is absent.
        case missing
        /// A `// pare ir vN` header with a version this Pare does not read.
        case unsupportedVersion
    }

    /// What kind of mistake.
    public var kind: Kind
    /// What is wrong and, where it helps, what was expected.
    public var message: String
    /// The offending token.
    public var location: SourceLocation

    /// Creates a parse error.
    public init(_ kind: Kind, _ message: String, at location: SourceLocation) {
        self.kind = kind
        self.message = message
        self.location = location
    }

    public var errorDescription: String? { "\(location): error: \(message)" }

    /// The error as a diagnostic, so tools can report parse and verifier errors alike.
    public var diagnostic: Diagnostic { Diagnostic(.error, message, at: .source(location)) }
}

/// Where the parser found each declaration that has no `location` field of its own (ops carry `Op.location`).
/// Arrays run parallel to the module's arrays as parsed; the verifier uses them to point diagnostics at text.
public struct SourceMap: Sendable, Hashable {
    /// The `module` keyword.
    public var module: SourceLocation?
    /// The `metadata` keyword, and each metadata entry's key.
    public var metadata: SourceLocation?
    public var metadataEntries: [SourceLocation] = []
    /// The `vocabulary` keyword, each `special` line, and the `id_map` line.
    public var vocabulary: SourceLocation?
    public var specials: [SourceLocation] = []
    public var idMap: SourceLocation?
    /// Each `block` declaration.
    public var blocks: [SourceLocation] = []
    /// Each `param` declaration.
    public var parameters: [SourceLocation] = []
    /// The `func` keyword, each argument, and the `return`.
    public var function: SourceLocation?
    public var arguments: [SourceLocation] = []
    public var returnValue: SourceLocation?

    /// An empty map.
    public init() {}
}

/// Parses IR text (the printer's format; docs/IR.md) into a module. `file` names the text in error messages
/// and in each op's `location`. Values are numbered as `Module.canonicalized()` numbers them, so
/// `parseModule(printModule(m), file: f) == m.canonicalized()`.
public func parseModule(_ text: String, file: String) throws -> Module {
    try parseModuleWithSourceMap(text, file: file).module
}

/// Parses IR text and also returns where each declaration was found, for `verify(_:sourceMap:)`.
public func parseModuleWithSourceMap(_ text: String, file: String) throws -> (module: Module, sourceMap: SourceMap) {
    var p = try IRParser(text, file: file)
    let m = try p.module()
    return (m, p.map)
}

// MARK: - The parser

private struct IRParser {
    var lexer: IRLexer
    var tok: LocatedToken
    let file: String
    var map = SourceMap()

    init(_ text: String, file: String) throws {
        lexer = IRLexer(text, file: file)
        self.file = file
        tok = LocatedToken(token: .eof, line: 1, column: 1)
        tok = try lexer.next()
    }

    var here: SourceLocation { SourceLocation(file: file, line: tok.line, column: tok.column) }

    mutating func advance() throws { tok = try lexer.next() }

    func fail(_ kind: IRParseError.Kind, _ message: String, at loc: SourceLocation? = nil) -> IRParseError {
        IRParseError(kind, message, at: loc ?? here)
    }

    func unexpected(_ expected: String) -> IRParseError {
        fail(.unexpectedToken, "expected \(expected), found \(tok.token.display)")
    }

    // MARK: Tokens

    mutating func expect(_ punct: String, _ context: String = "") throws {
        guard tok.token == .punct(punct) else {
            throw unexpected("'\(punct)'" + (context.isEmpty ? "" : " " + context))
        }
        try advance()
    }

    mutating func accept(_ punct: String) throws -> Bool {
        guard tok.token == .punct(punct) else { return false }
        try advance()
        return true
    }

    func isKeyword(_ word: String) -> Bool { tok.token == .identifier(word) }

    mutating func expectKeyword(_ word: String, _ context: String = "") throws {
        guard isKeyword(word) else { throw unexpected("'\(word)'" + (context.isEmpty ? "" : " " + context)) }
        try advance()
    }

    mutating func identifier(_ what: String) throws -> String {
        guard case .identifier(let s) = tok.token else { throw unexpected(what) }
        try advance()
        return s
    }

    /// A bare identifier or a quoted string (keys, roles, encodings).
    mutating func key(_ what: String) throws -> String {
        switch tok.token {
        case .identifier(let s), .string(let s):
            try advance()
            return s
        default:
            throw unexpected(what)
        }
    }

    mutating func string(_ what: String) throws -> String {
        guard case .string(let s) = tok.token else { throw unexpected(what) }
        try advance()
        return s
    }

    mutating func symbol(_ what: String) throws -> String {
        guard case .symbol(let s) = tok.token else { throw unexpected(what) }
        try advance()
        return s
    }

    mutating func integer(_ what: String) throws -> Int {
        guard case .integer(let i) = tok.token else { throw unexpected(what) }
        try advance()
        return i
    }

    mutating func nonNegative(_ what: String) throws -> Int {
        let loc = here
        let i = try integer(what)
        guard i >= 0 else { throw fail(.badLiteral, "expected \(what), found negative integer \(i)", at: loc) }
        return i
    }

    /// `int | float | string | true | false | inf | nan`.
    mutating func attribute() throws -> Attribute {
        let a: Attribute
        switch tok.token {
        case .integer(let i): a = .int(i)
        case .float(let d): a = .float(d)
        case .string(let s): a = .string(s)
        case .identifier("true"): a = .bool(true)
        case .identifier("false"): a = .bool(false)
        case .identifier(let w) where ["inf", "nan", "snan"].contains(w): a = .float(Double(w) ?? .nan)
        default: throw unexpected("an attribute value (integer, number, string, true or false)")
        }
        try advance()
        return a
    }

    /// `{key = value, ...}` in written order; a key given twice is an error.
    mutating func attributeDict() throws -> [(key: String, value: Attribute, at: SourceLocation)] {
        try expect("{")
        var out: [(key: String, value: Attribute, at: SourceLocation)] = []
        if try accept("}") { return out }
        repeat {
            let at = here
            let k = try key("an attribute name")
            if out.contains(where: { $0.key == k }) { throw fail(.duplicate, "attribute '\(k)' given twice", at: at) }
            try expect("=", "after attribute name '\(k)'")
            out.append((k, try attribute(), at))
        } while try accept(",")
        try expect("}", "or ',' in attribute list")
        return out
    }

    /// A `tensor<d0xd1x...xdtype>` type; `?` is the sequence dimension.
    mutating func tensorType(_ what: String = "a tensor type like tensor<?x8xf32>") throws -> TensorType {
        guard case .tensorType(let body) = tok.token else { throw unexpected(what) }
        let start = SourceLocation(file: file, line: tok.line, column: tok.column + 7)
        var pieces = body.split(separator: "x", omittingEmptySubsequences: false).map(String.init)
        var col = start.column
        func bad(_ m: String, _ c: Int) -> IRParseError {
            fail(.badType, "bad type 'tensor<\(body)>': \(m)", at: SourceLocation(file: file, line: start.line, column: c))
        }
        let dtypeText = pieces.removeLast()
        var shape: [Dim] = []
        for p in pieces {
            if p == "?" {
                shape.append(.seq)
            } else if !p.isEmpty, p.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int(p) {
                shape.append(.fixed(n))
            } else {
                throw bad("expected a dimension (a non-negative integer or '?'), found '\(p)'", col)
            }
            col += p.utf8.count + 1
        }
        guard let dtype = DType(rawValue: dtypeText) else {
            let names = DType.allCases.map(\.rawValue).joined(separator: ", ")
            throw bad("expected an element type (\(names)) after the last 'x', found '\(dtypeText)'", col)
        }
        try advance()
        return TensorType(shape, dtype)
    }

    /// `[a, b..c, ...]`: inclusive ranges expand in order.
    mutating func indexList() throws -> IndexList {
        try expect("[", "to open an index list")
        var out: [Int] = []
        if try accept("]") { return IndexList(out) }
        repeat {
            let at = here
            let a = try nonNegative("an index")
            if try accept("..") {
                let b = try nonNegative("the last index of a range")
                guard a <= b else { throw fail(.badLiteral, "index range \(a)..\(b) is empty: write ranges low..high", at: at) }
                out.append(contentsOf: a...b)
            } else {
                out.append(a)
            }
        } while try accept(",")
        try expect("]", "or ',' in index list")
        return IndexList(out)
    }

    // MARK: Module

    mutating func module() throws -> Module {
        map.module = here
        try expectKeyword("module", "to start the module")
        let name = try symbol("the module name, e.g. @\"SmolLM2-135M-Instruct\"")
        try expect("{", "after the module name")

        var metadata: [(key: String, value: Attribute)]?
        var vocabulary: Vocabulary?
        var blocks: [BlockDims] = []
        var parameters: [Parameter] = []
        var function: Function?
        while true {
            let at = here
            switch tok.token {
            case .identifier("metadata"):
                guard metadata == nil else { throw fail(.duplicate, "second 'metadata' section; a module has one") }
                metadata = try metadataSection()
            case .identifier("vocabulary"):
                guard vocabulary == nil else { throw fail(.duplicate, "second 'vocabulary' declaration; a module has one") }
                vocabulary = try vocabularyDecl()
            case .identifier("block"):
                blocks.append(try blockDecl())
            case .identifier("param"):
                parameters.append(try parameterDecl())
            case .identifier("func"):
                guard function == nil else { throw fail(.duplicate, "second function; a module has one, @forward") }
                function = try functionDecl()
            case .punct("}"):
                guard let vocabulary else {
                    throw fail(.missing, "module has no 'vocabulary' declaration", at: at)
                }
                guard let function else { throw fail(.missing, "module has no function; expected 'func @forward(...)'", at: at) }
                try advance()
                guard tok.token == .eof else { throw unexpected("end of file after the module's closing '}'") }
                return Module(name: name, metadata: metadata ?? [], blocks: blocks, parameters: parameters,
                              vocabulary: vocabulary, function: function)
            default:
                throw unexpected("'metadata', 'vocabulary', 'block', 'param', 'func' or '}'")
            }
        }
    }

    mutating func metadataSection() throws -> [(key: String, value: Attribute)] {
        map.metadata = here
        try advance()
        try expect("{", "after 'metadata'")
        var out: [(key: String, value: Attribute)] = []
        while !(try accept("}")) {
            let at = here
            let k = try key("a metadata key or '}'")
            try expect("=", "after metadata key '\(k)'")
            out.append((k, try attribute()))
            map.metadataEntries.append(at)
        }
        return out
    }

    mutating func vocabularyDecl() throws -> Vocabulary {
        let at = here
        map.vocabulary = at
        try advance()
        let model = try key("the vocabulary model, e.g. 'bpe'")
        let dict = try attributeDict()
        var size: Int?, merges: Int?, pre: String?, sourceSize: Int?
        for (k, v, a) in dict {
            switch k {
            case "size", "merges", "source_size":
                guard let i = v.intValue else { throw fail(.badLiteral, "vocabulary '\(k)' must be an integer, found \(v)", at: a) }
                if k == "size" { size = i } else if k == "merges" { merges = i } else { sourceSize = i }
            case "pre_tokenizer":
                guard let s = v.stringValue else {
                    throw fail(.badLiteral, "vocabulary 'pre_tokenizer' must be a string, found \(v)", at: a)
                }
                pre = s
            default:
                throw fail(.unexpectedToken, "unknown vocabulary attribute '\(k)'; expected size, merges, pre_tokenizer, source_size", at: a)
            }
        }
        guard let size, let merges, let pre else {
            let missing = [("size", size == nil), ("merges", merges == nil), ("pre_tokenizer", pre == nil)]
                .filter(\.1).map(\.0).joined(separator: ", ")
            throw fail(.missing, "vocabulary declaration lacks \(missing)", at: at)
        }
        var specials: [SpecialToken] = []
        var idMap: IndexList?
        if try accept("{") {
            while !(try accept("}")) {
                let lineAt = here
                if isKeyword("special") {
                    try advance()
                    let role = try key("a special token role, e.g. bos")
                    try expect("=", "after special token role '\(role)'")
                    let id = try nonNegative("the special token's id")
                    let text = try string("the special token's text as a string")
                    specials.append(SpecialToken(role: role, id: id, text: text))
                    map.specials.append(lineAt)
                } else if isKeyword("id_map") {
                    guard idMap == nil else { throw fail(.duplicate, "second 'id_map'; a vocabulary has one") }
                    try advance()
                    try expect("=", "after 'id_map'")
                    idMap = try indexList()
                    map.idMap = lineAt
                } else {
                    throw unexpected("'special', 'id_map' or '}' in the vocabulary body")
                }
            }
        }
        return Vocabulary(model: model, size: size, mergeCount: merges, preTokenizer: pre, specials: specials, idMap: idMap,
                          sourceSize: sourceSize)
    }

    mutating func blockDecl() throws -> BlockDims {
        let at = here
        map.blocks.append(at)
        try advance()
        let index = try nonNegative("the block index")
        let dict = try attributeDict()
        let keys = ["hidden", "heads", "kv_heads", "head_dim", "ffn"]
        var dims: [String: Int] = [:]
        for (k, v, a) in dict {
            guard keys.contains(k) else {
                throw fail(.unexpectedToken, "unknown block attribute '\(k)'; expected \(keys.joined(separator: ", "))", at: a)
            }
            guard let i = v.intValue else { throw fail(.badLiteral, "block attribute '\(k)' must be an integer, found \(v)", at: a) }
            dims[k] = i
        }
        let missing = keys.filter { dims[$0] == nil }
        guard missing.isEmpty, let h = dims["hidden"], let n = dims["heads"], let kv = dims["kv_heads"],
              let hd = dims["head_dim"], let f = dims["ffn"] else {
            throw fail(.missing, "block \(index) lacks \(missing.joined(separator: ", "))", at: at)
        }
        return BlockDims(index: index, hidden: h, heads: n, kvHeads: kv, headDim: hd, ffn: f)
    }

    mutating func parameterDecl() throws -> Parameter {
        map.parameters.append(here)
        try advance()
        let name = try symbol("the parameter's name, e.g. @blk.0.attn_q.weight")
        try expect(":", "after the parameter name")
        let typeAt = here
        let type = try tensorType()
        let shape = try type.shape.map { d -> Int in
            guard let n = d.size else { throw fail(.badType, "parameter @\(spellName(name)) must have a static shape; '?' is only for activations", at: typeAt) }
            return n
        }
        try expect("=", "after the parameter type")
        try expectKeyword("load", "(parameters are loaded from the source checkpoint)")
        let tensor = try string("the source tensor's name as a string")
        let encoding = try key("the source encoding, e.g. f32 or q4_k")
        try expect("[", "to open the source shape")
        var sourceShape: [Int] = []
        if !(try accept("]")) {
            repeat { sourceShape.append(try nonNegative("a dimension of the source shape")) } while try accept(",")
            try expect("]", "or ',' in the source shape")
        }
        var views: [ParameterView] = []
        while try accept("|") {
            let at = here
            let v = try identifier("a view: rows(...), cols(...), unpermute_rope(heads = N), append_rows(@p, rows = N), scale_cols(@p) or quantize(FORMAT)")
            try expect("(", "after '\(v)'")
            switch v {
            case "rows": views.append(.rows(try indexList()))
            case "cols": views.append(.cols(try indexList()))
            case "unpermute_rope":
                try expectKeyword("heads", "in unpermute_rope(heads = N)")
                try expect("=", "after 'heads'")
                views.append(.unpermuteRoPE(heads: try nonNegative("the number of heads")))
            case "append_rows":
                let other = try symbol("the parameter whose rows are appended, e.g. @blk.0.attn_k.weight")
                try expect(",", "after the parameter in append_rows(@p, rows = N)")
                try expectKeyword("rows", "in append_rows(@p, rows = N)")
                try expect("=", "after 'rows'")
                views.append(.appendRows(other, rows: try nonNegative("the number of appended rows")))
            case "scale_cols":
                views.append(.scaleCols(try symbol("the vector parameter that scales the columns, e.g. @blk.0.attn_norm.weight")))
            case "quantize":
                let fmtAt = here
                let f = try key("a block format: \(ParameterView.quantizeFormats.keys.sorted().joined(separator: ", "))")
                guard ParameterView.quantizeFormats[f] != nil else {
                    throw fail(.unexpectedToken, "quantize(\(f)): unknown format; expected one of \(ParameterView.quantizeFormats.keys.sorted().joined(separator: ", "))", at: fmtAt)
                }
                views.append(.quantize(f))
            default:
                throw fail(.unexpectedToken, "unknown view '\(v)'; expected rows, cols, unpermute_rope, append_rows, scale_cols or quantize", at: at)
            }
            try expect(")", "to close the view")
        }
        return Parameter(name: name, shape: shape, dtype: type.dtype,
                         source: TensorSource(tensor: tensor, encoding: encoding, shape: sourceShape), views: views)
    }

    // MARK: Function

    mutating func functionDecl() throws -> Function {
        map.function = here
        try advance()
        let name = try symbol("the function name, @forward")
        try expect("(", "to open the argument list")
        var values: [String: (value: Value, at: SourceLocation)] = [:]
        var next = 0
        var arguments: [(name: String, value: Value, type: TensorType)] = []
        if !(try accept(")")) {
            repeat {
                let at = here
                guard case .value(let n) = tok.token else { throw unexpected("an argument like %tokens") }
                if let prev = values[n] {
                    throw fail(.redefinedValue, "argument %\(spellName(n)) defined twice (first at \(prev.at))", at: at)
                }
                try advance()
                try expect(":", "after argument %\(spellName(n))")
                let t = try tensorType()
                let v = Value(next)
                next += 1
                values[n] = (v, at)
                arguments.append((n, v, t))
                map.arguments.append(at)
            } while try accept(",")
            try expect(")", "or ',' in the argument list")
        }
        try expect("->", "before the result type")
        let resultAt = here
        let resultType = try tensorType()
        try expect("{", "to open the function body")

        var ops: [Op] = []
        while !isKeyword("return") {
            let at = here
            guard case .value(let n) = tok.token else { throw unexpected("an op like '%0 = ...' or 'return'") }
            if let prev = values[n] {
                throw fail(.redefinedValue, "value %\(spellName(n)) defined twice (first at \(prev.at))", at: at)
            }
            try advance()
            try expect("=", "after %\(spellName(n))")
            let kindAt = here
            let kindName = try identifier("an op name")
            guard let kind = OpKind(rawValue: kindName) else {
                let all = OpKind.allCases.map(\.rawValue).joined(separator: ", ")
                throw fail(.unknownOp, "unknown op '\(kindName)'; expected one of \(all)", at: kindAt)
            }
            var operands: [Operand] = []
            repeat {
                switch tok.token {
                case .value(let u):
                    guard let d = values[u] else {
                        throw fail(.undefinedValue, "use of undefined value %\(spellName(u))")
                    }
                    operands.append(.value(d.value))
                case .symbol(let p):
                    operands.append(.param(p))
                default:
                    throw unexpected("an operand (%value or @parameter)")
                }
                try advance()
            } while try accept(",")
            var attributes: [String: Attribute] = [:]
            if tok.token == .punct("{") {
                for (k, v, _) in try attributeDict() { attributes[k] = v }
            }
            var block: Int?
            if isKeyword("block") {
                try advance()
                block = try nonNegative("the block index after 'block'")
            }
            try expect(":", "before the result type of %\(spellName(n))")
            let type = try tensorType()
            let v = Value(next)
            next += 1
            values[n] = (v, at)
            ops.append(Op(result: v, kind: kind, operands: operands, attributes: attributes, block: block, type: type,
                          location: at))
        }
        map.returnValue = here
        try advance()
        guard case .value(let r) = tok.token else { throw unexpected("the returned value after 'return'") }
        guard let result = values[r] else { throw fail(.undefinedValue, "return of undefined value %\(spellName(r))") }
        let actual = arguments.first { $0.value == result.value }?.type ?? ops.first { $0.result == result.value }?.type
        if let actual, actual != resultType {
            throw fail(.badType, "function @\(spellName(name)) is declared to return \(resultType) but returns "
                       + "%\(spellName(r)) of type \(actual)", at: resultAt)
        }
        try advance()
        try expect("}", "after the return (it ends the function)")
        return Function(name: name, arguments: arguments, ops: ops, result: result.value)
    }
}
