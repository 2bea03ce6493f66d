// Lifting a Hugging Face directory: config.json, safetensors and tokenizer.json.
import Foundation
import PareCheckpoint
import PareIR
import PareTokenizer

/// The identity of an HF directory: the sha256 of a manifest listing, in name order, `<sha256>  <file>` for
/// config.json, tokenizer.json and every *.safetensors / *.json weight file.
public func huggingFaceDigest(_ path: String) throws -> String {
    let files = try FileManager.default.contentsOfDirectory(atPath: path).filter {
        $0 == "config.json" || $0 == "tokenizer.json" || $0.hasSuffix(".safetensors") || $0 == "model.safetensors.index.json"
    }.sorted()
    var manifest = ""
    for f in files { manifest += try sha256Hex(file: (path as NSString).appendingPathComponent(f)) + "  " + f + "\n" }
    return Data(manifest.utf8).withUnsafeBytes { sha256Hex($0) }
}

/// The vocabulary of an HF directory, from its tokenizer.json.
func huggingFaceVocabulary(_ dir: HFDirectory) throws -> Vocabulary {
    let (bpe, specials) = try TokenizerJSON.load(path: dir.tokenizerPath)
    return Vocabulary(size: bpe.tokens.count, mergeCount: bpe.merges.count, preTokenizer: bpe.preTokenizer, specials: specials, bpe: bpe)
}

/// Lifts a Hugging Face directory.
public func loadHuggingFace(_ path: String) throws -> LoadedModel {
    let dir = try HFDirectory(path: path)
    let config = dir.modelConfig
    var vocabulary = try huggingFaceVocabulary(dir)
    guard vocabulary.size <= config.vocabSize else {
        throw LiftError.badMetadata(path: dir.config.path, key: "vocab_size",
                                    detail: "(\(config.vocabSize)) is smaller than tokenizer.json's \(vocabulary.size) tokens")
    }
    // Embedding rows may exceed the tokenizer's ids (padding rows); the vocabulary spans all rows.
    vocabulary.size = config.vocabSize
    let module = try lift(LiftInput(config: config, names: .huggingFace, reader: dir.checkpoint, vocabulary: vocabulary,
                                    format: "hf", sha256: try huggingFaceDigest(path), unpermuteQK: false,
                                    chatTemplate: huggingFaceChatTemplate(path)))
    return LoadedModel(module: module, reader: dir.checkpoint, tokenizer: try BPETokenizer(model: vocabulary.bpe!))
}

/// Just the tokenizer of an HF directory.
func loadHuggingFaceTokenizer(_ path: String) throws -> BPETokenizer {
    let tokenizer = (path as NSString).appendingPathComponent("tokenizer.json")
    return try BPETokenizer(model: TokenizerJSON.load(path: tokenizer).model)
}

/// The `chat_template` string of the directory's tokenizer_config.json, if it has one (a list of named templates,
/// as some models have, is not read).
func huggingFaceChatTemplate(_ path: String) -> String? {
    let file = (path as NSString).appendingPathComponent("tokenizer_config.json")
    guard let data = FileManager.default.contents(atPath: file),
          let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
    return object["chat_template"] as? String
}
