// Opening a model from a path: a GGUF file, a Hugging Face directory, or a `.pir` module naming its source.
import Foundation
import PareCheckpoint
import PareIR
import PareInterpreter
import PareTokenizer

/// A lifted (or re-loaded) module together with the checkpoint its parameters read from and its tokenizer.
public struct LoadedModel {
    public var module: Module
    public let reader: TensorReader
    public let tokenizer: BPETokenizer
    /// Materialised weights, cached (shared by every module derived from this one).
    public let store: WeightStore

    public init(module: Module, reader: TensorReader, tokenizer: BPETokenizer) {
        self.module = module
        self.reader = reader
        self.tokenizer = tokenizer
        self.store = WeightStore(provider: CheckpointTensors(reader: reader))
    }

    /// Materialises every parameter (dequantised float32, views applied).
    public func weights() throws -> [String: Tensor] { try store.weights(for: module) }

    /// A reference interpreter over this module.
    public func interpreter() throws -> Interpreter { try Interpreter(module: module, weights: weights()) }
}

/// The kinds of path `pare` accepts wherever it takes a MODEL.
public enum ModelFormat: String, Sendable {
    case gguf, huggingFace = "hf", pir
}

/// What `path` holds, by content: GGUF magic, a directory with config.json, or IR text.
public func detectFormat(_ path: String) throws -> ModelFormat {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
        throw CheckpointError.cannotOpen(path: path, reason: "no such file or directory")
    }
    if isDir.boolValue {
        guard FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("config.json")) else {
            throw LiftError.notAModel(path: path)
        }
        return .huggingFace
    }
    guard let h = FileHandle(forReadingAtPath: path) else { throw CheckpointError.cannotOpen(path: path, reason: "permission denied") }
    defer { try? h.close() }
    let head = (try? h.read(upToCount: 4)) ?? Data()
    if head == Data("GGUF".utf8) { return .gguf }
    if path.hasSuffix(".pir") { return .pir }
    if path.hasSuffix(".gguf") { return .gguf }  // let the GGUF reader name what is wrong with it
    throw LiftError.notAModel(path: path)
}

/// Loads a model from a GGUF file, a Hugging Face directory or a `.pir` file.
public func loadModel(_ path: String) throws -> LoadedModel {
    let path = absolutePath(path)
    switch try detectFormat(path) {
    case .gguf: return try loadGGUF(path)
    case .huggingFace: return try loadHuggingFace(path)
    case .pir: return try loadPIR(path)
    }
}

/// `path` made absolute and standardised, so a module's `source.path` works from any directory.
public func absolutePath(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }

/// Lifts a GGUF file.
public func loadGGUF(_ path: String) throws -> LoadedModel {
    let file = try GGUFFile(path: path)
    let config = try file.modelConfig()
    let vocabulary = try file.vocabulary()
    guard vocabulary.size == config.vocabSize else {
        throw LiftError.badMetadata(path: path, key: "\(config.architecture).vocab_size",
                                    detail: "(\(config.vocabSize)) differs from the tokenizer's \(vocabulary.size) tokens")
    }
    let module = try lift(LiftInput(config: config, names: .gguf, reader: file, vocabulary: vocabulary, format: "gguf",
                                    sha256: try sha256Hex(file: path), unpermuteQK: ggufArchitectures[config.architecture] ?? false,
                                    chatTemplate: { if case .string(let t)? = file.metadata["tokenizer.chat_template"] { t } else { nil } }()))
    return LoadedModel(module: module, reader: file, tokenizer: try BPETokenizer(model: vocabulary.bpe!))
}

/// The text of a `.pir` file; a typed error says whether it is missing, unreadable or not UTF-8.
public func readIRText(_ path: String) throws -> String {
    guard FileManager.default.fileExists(atPath: path) else { throw CheckpointError.cannotOpen(path: path, reason: "no such file") }
    guard let data = FileManager.default.contents(atPath: path) else { throw CheckpointError.cannotOpen(path: path, reason: "permission denied or not a file") }
    guard let text = String(data: data, encoding: .utf8) else { throw CheckpointError.cannotOpen(path: path, reason: "not valid UTF-8 text (IR files are UTF-8)") }
    return text
}

/// Loads a `.pir` module and re-opens the checkpoint it names, checking that it is the same file and that the
/// vocabulary's source size is the checkpoint's. A pruned vocabulary (`id_map`) gets its BPE model and tokenizer
/// re-derived from the source's (`prunedBPEModel`).
public func loadPIR(_ path: String) throws -> LoadedModel {
    let text = try readIRText(path)
    let (parsed, sourceMap) = try parseModuleWithSourceMap(text, file: path)
    try verifyOrThrow(parsed, sourceMap: sourceMap)
    var module = parsed
    guard case .string(let source)? = module[meta: MetaKey.sourcePath], case .string(let format)? = module[meta: MetaKey.sourceFormat] else {
        throw LiftError.missingMetadata(path: path, key: "\(MetaKey.sourcePath) / \(MetaKey.sourceFormat)")
    }
    guard FileManager.default.fileExists(atPath: source) else { throw LiftError.sourceMissing(pir: path, source: source) }
    let base: LoadedModel
    switch format {
    case "gguf": base = try loadGGUF(source)
    case "hf": base = try loadHuggingFace(source)
    default: throw LiftError.badMetadata(path: path, key: MetaKey.sourceFormat, detail: "is '\(format)'; expected \"gguf\" or \"hf\"")
    }
    if case .string(let expected)? = module[meta: MetaKey.sourceSHA256], case .string(let found)? = base.module[meta: MetaKey.sourceSHA256],
       expected != found {
        throw LiftError.sourceChanged(pir: path, source: source, expected: expected, found: found)
    }
    guard module.vocabulary.originalSize == base.module.vocabulary.size else {
        let declared = module.vocabulary.sourceSize.map { "source_size = \($0)" } ?? "size = \(module.vocabulary.size)"
        throw LiftError.unsupportedVocabulary(path: path, detail: "its vocabulary declares \(declared), but the source \(source) has "
            + "\(base.module.vocabulary.size) token ids")
    }
    guard module.vocabulary.idMap != nil else {
        module.vocabulary.bpe = base.module.vocabulary.bpe
        return LoadedModel(module: module, reader: base.reader, tokenizer: base.tokenizer)
    }
    guard let sourceBPE = base.module.vocabulary.bpe else {
        throw LiftError.unsupportedVocabulary(path: path, detail: "its source \(source) has no BPE tables to prune")
    }
    let bpe = try prunedBPEModel(for: module.vocabulary, source: sourceBPE, path: path)
    module.vocabulary.bpe = bpe
    return LoadedModel(module: module, reader: base.reader, tokenizer: try BPETokenizer(model: bpe))
}

/// The BPE model of a pruned vocabulary, re-derived from the source checkpoint's model and the id map (the kept
/// source ids; the kept merges are those among kept tokens, in source rank order): what `vocab-prune` built.
/// Throws `LiftError.unsupportedVocabulary` naming `path` when the id map does not fit the source tokenizer, keeps
/// a token without the parts of a merge that makes it, or disagrees with the declared merges or special tokens.
public func prunedBPEModel(for vocabulary: Vocabulary, source: BPEModel, path: String) throws -> BPEModel {
    guard let idMap = vocabulary.idMap else { return source }
    let ids = Array(idMap)
    if let bad = ids.first(where: { $0 >= source.tokens.count }) {
        throw LiftError.unsupportedVocabulary(path: path, detail: "id_map names source token \(bad), but the source tokenizer has \(source.tokens.count) tokens")
    }
    let unclosed = source.unclosedTokens(keeping: ids)
    if let t = unclosed.first {
        throw LiftError.unsupportedVocabulary(path: path, detail: "id_map keeps source token \(t) \(source.tokens[t].debugDescription) but not the "
            + "parts of a merge that makes it (\(unclosed.count) such tokens); the pruned tokenizer would not match the original: re-run vocab-prune")
    }
    let bpe = try source.pruned(keeping: ids)
    guard bpe.merges.count == vocabulary.mergeCount else {
        throw LiftError.unsupportedVocabulary(path: path, detail: "the vocabulary declares \(vocabulary.mergeCount) merges, but the source merges among "
            + "the tokens of its id_map are \(bpe.merges.count)")
    }
    for s in vocabulary.specials where s.id < bpe.tokens.count && bpe.tokens[s.id] != s.text {
        throw LiftError.unsupportedVocabulary(path: path, detail: "special \(s.role) = \(s.id) is \(s.text.debugDescription), but token \(s.id) of "
            + "the pruned vocabulary (source token \(ids[s.id])) is \(bpe.tokens[s.id].debugDescription)")
    }
    return bpe
}

/// Just the tokenizer of a model (no lifting, no hashing, except for a `.pir`: its source is re-opened and checked,
/// and a pruned vocabulary gets its pruned tokenizer, ids in the module's vocabulary): for `pare tokenize`.
public func loadTokenizer(_ path: String) throws -> BPETokenizer {
    switch try detectFormat(path) {
    case .gguf:
        let v = try GGUFFile(path: path).vocabulary()
        return try BPETokenizer(model: v.bpe!)
    case .huggingFace:
        return try loadHuggingFaceTokenizer(path)
    case .pir:
        return try loadPIR(path).tokenizer
    }
}
