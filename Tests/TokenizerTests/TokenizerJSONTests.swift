// TokenizerJSON: the real files load fast with the right roles; small hand-written files cover both merge
// forms, the pre-tokenizer recognition and every malformed-input error.
import Foundation
import PareIR
import PareTokenizer
import XCTest

final class TokenizerJSONTests: XCTestCase {
    func testRealFilesLoadWithRoles() throws {
        let smol = try Loaded.model("smollm2-135m-instruct")
        XCTAssertEqual(smol.model.tokens.count, 49152)
        XCTAssertEqual(smol.model.merges.count, 48900)
        XCTAssertEqual(smol.model.preTokenizer, "gpt2")
        XCTAssertEqual(smol.model.kinds.filter { $0 == .control }.count, 17)
        XCTAssertEqual(roles(smol.specials), ["bos=1 <|im_start|>", "eos=2 <|im_end|>", "pad=2 <|im_end|>", "unk=0 <|endoftext|>",
                                             "fim_pre=\(smol.tokenizer.id(of: "<fim_prefix>") ?? -1) <fim_prefix>",
                                             "fim_suf=\(smol.tokenizer.id(of: "<fim_suffix>") ?? -1) <fim_suffix>",
                                             "fim_mid=\(smol.tokenizer.id(of: "<fim_middle>") ?? -1) <fim_middle>",
                                             "fim_pad=\(smol.tokenizer.id(of: "<fim_pad>") ?? -1) <fim_pad>",
                                             "fim_rep=3 <repo_name>", "fim_sep=5 <file_sep>"].filter { !$0.contains("=-1") })

        let qwen = try Loaded.model("qwen2.5-coder-0.5b-instruct")
        XCTAssertEqual(qwen.model.tokens.count, 151936)
        XCTAssertEqual(qwen.model.merges.count, 151387)
        XCTAssertEqual(qwen.model.preTokenizer, "qwen2")
        XCTAssertEqual(qwen.model.kinds[151657], .userDefined)  // <tool_call> is not special
        XCTAssertEqual(qwen.model.kinds[151644], .control)
        XCTAssertEqual(roles(qwen.specials), ["bos=151643 <|endoftext|>", "eos=151645 <|im_end|>", "pad=151643 <|endoftext|>",
                                             "fim_pre=151659 <|fim_prefix|>", "fim_suf=151661 <|fim_suffix|>",
                                             "fim_mid=151660 <|fim_middle|>", "fim_pad=151662 <|fim_pad|>",
                                             "fim_rep=151663 <|repo_name|>", "fim_sep=151664 <|file_sep|>"])
    }

    func testBothMergeFormsAndPreTokenizers() throws {
        let pairs = try load(tiny(merges: #"[["a","b"],["ab","c"]]"#)).model
        let strings = try load(tiny(merges: #"["a b","ab c"]"#)).model
        XCTAssertEqual(pairs, strings)
        XCTAssertTrue(pairs.merges[1] == ("ab", "c"))
        XCTAssertEqual(pairs.tokens, ["a", "b", "c", "ab", "abc", "<s>", "Ġ"])
        XCTAssertEqual(pairs.kinds[5], .control)
        XCTAssertEqual(try BPETokenizer(model: pairs).encode("abc<s>"), [4, 5])

        func split(_ pattern: String) -> String {
            #"{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"\#(pattern)"},"behavior":"Isolated","invert":false},"#
                + #"{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":false}]}"#
        }
        func escaped(_ p: PreTokenizer) -> String { p.pattern.replacingOccurrences(of: "\\", with: "\\\\") }
        XCTAssertEqual(try load(tiny(pre: split(escaped(.qwen2)))).model.preTokenizer, "qwen2")
        XCTAssertEqual(try load(tiny(pre: split(escaped(.gpt2)))).model.preTokenizer, "gpt2")
        XCTAssertEqual(try load(tiny(pre: split(escaped(.llama3)), modelExtra: #","ignore_merges":true"#)).model.preTokenizer, "llama3")
        let digits = #"{"type":"Sequence","pretokenizers":[{"type":"Digits","individual_digits":true},"#
            + #"{"type":"ByteLevel","add_prefix_space":false,"use_regex":true}]}"#
        XCTAssertEqual(try load(tiny(pre: digits)).model.preTokenizer, "smollm")

        expect(tiny(pre: split("\\\\w+")), .unsupported(file: "F", path: "$.pre_tokenizer.pretokenizers[0].pattern.Regex",
                                                     what: #"split pattern "\\w+""#))
        expect(tiny(pre: split(escaped(.llama3))), .unsupported(file: "F", path: "$.model.ignore_merges",
            what: "ignore_merges = false with the llama3 pre-tokenizer (Pare ties ignore_merges to llama3)"))
        expect(tiny(pre: #"{"type":"ByteLevel","add_prefix_space":true}"#),
               .unsupported(file: "F", path: "$.pre_tokenizer.add_prefix_space", what: "ByteLevel add_prefix_space = true"))
        expect(tiny(pre: #"{"type":"Whitespace"}"#), .unsupported(file: "F", path: "$.pre_tokenizer", what: "pre-tokenizer Whitespace"))
    }

    func testMalformedFilesThrowNamingFileAndPath() {
        expect("{\"model\": {\"vocab\": {\"a\": 0,}}}", nil, invalidJSONAt: (1, 29))
        expect("[1, 2]", .malformed(file: "F", path: "$", reason: "expected an object, found an array"))
        expect("{}", .malformed(file: "F", path: "$.model", reason: "missing"))
        expect(#"{"model":{"type":"BPE","merges":[]}}"#, .malformed(file: "F", path: "$.model.vocab", reason: "missing"))
        expect(#"{"model":{"type":"WordPiece","vocab":{}}}"#,
               .unsupported(file: "F", path: "$.model.type", what: #"model type "WordPiece"; only BPE"#))
        expect(tiny(merges: #"["a b","abc"]"#),
               .malformed(file: "F", path: "$.model.merges[1]", reason: #"expected "left right" with one space, found "abc""#))
        expect(tiny(merges: #"[["a","b"],["ab",3]]"#),
               .malformed(file: "F", path: "$.model.merges[1]", reason: "expected a pair of token strings"))
        expect(tiny(vocab: #"{"a":0,"b":1,"c":2,"ab":3,"abc":4,"<s>":5,"Ġ":7}"#),
               .malformed(file: "F", path: "$.model.vocab", reason: "ids are not dense: no token has id 6 (ids run to 7)"))
        expect(tiny(vocab: #"{"a":0,"b":1,"c":2,"ab":3,"abc":4,"<s>":5,"Ġ":-6}"#),
               .malformed(file: "F", path: #"$.model.vocab["Ġ"]"#, reason: "expected a non-negative integer, found -6"))
        expect(tiny(vocab: #"{"a":0,"b":1,"c":2,"ab":3,"abc":4,"<s>":5,"Ġ":4}"#),
               .malformed(file: "F", path: "$.model.vocab", reason: #"id 4 is given to both "abc" and "Ġ""#))
        expect(tiny(extra: #","normalizer":{"type":"NFC"}"#), .unsupported(file: "F", path: "$.normalizer", what: "normalizer NFC"))
        expect(tiny(modelExtra: #","byte_fallback":true"#),
               .unsupported(file: "F", path: "$.model.byte_fallback", what: "byte fallback (not a byte-level BPE)"))
        XCTAssertThrowsError(try TokenizerJSON.load(path: "/nonexistent/tokenizer.json")) {
            XCTAssertEqual($0 as? TokenizerError, .unreadable(file: "/nonexistent/tokenizer.json", reason: "no such file"))
            XCTAssertEqual(($0 as? LocalizedError)?.errorDescription, "/nonexistent/tokenizer.json: cannot read: no such file")
        }
    }

    func testConfigRolesAndTheirErrors() throws {
        let dir = try tempDir()
        try tiny().write(toFile: dir + "/tokenizer.json", atomically: true, encoding: .utf8)
        try #"{"bos_token":{"content":"<s>","special":true},"eos_token":"<s>","unk_token":null}"#
            .write(toFile: dir + "/tokenizer_config.json", atomically: true, encoding: .utf8)
        XCTAssertEqual(roles(try TokenizerJSON.load(path: dir + "/tokenizer.json").specials), ["bos=5 <s>", "eos=5 <s>"])
        try #"{"eos_token":"</s>"}"#.write(toFile: dir + "/tokenizer_config.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TokenizerJSON.load(path: dir + "/tokenizer.json")) {
            XCTAssertEqual($0 as? TokenizerError, .malformed(file: dir + "/tokenizer_config.json", path: "$.eos_token",
                                                             reason: #"token "</s>" is not in the vocabulary"#))
        }
    }

    // MARK: - Helpers

    private func roles(_ s: [SpecialToken]) -> [String] { s.map { "\($0.role)=\($0.id) \($0.text)" } }

    /// A tiny byte-level BPE tokenizer.json: a b c ab abc <s>(added, special) Ġ.
    private func tiny(vocab: String = #"{"a":0,"b":1,"c":2,"ab":3,"abc":4,"<s>":5,"Ġ":6}"#,
                      merges: String = #"[["a","b"],["ab","c"]]"#,
                      pre: String = #"{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true}"#,
                      extra: String = "", modelExtra: String = "") -> String {
        #"{"version":"1.0","added_tokens":[{"id":5,"content":"<s>","single_word":false,"lstrip":false,"rstrip":false,"#
            + #""normalized":false,"special":true}],"pre_tokenizer":\#(pre),"decoder":{"type":"ByteLevel"}\#(extra),"#
            + #""model":{"type":"BPE","dropout":null,"vocab":\#(vocab),"merges":\#(merges)\#(modelExtra)}}"#
    }

    private func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "pare-tok-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    private func load(_ json: String) throws -> (model: BPEModel, specials: [SpecialToken]) {
        let path = try tempDir() + "/tokenizer.json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return try TokenizerJSON.load(path: path)
    }

    /// Loading `json` throws `expected`, with the temp file's path in place of "F".
    private func expect(_ json: String, _ expected: TokenizerError?, invalidJSONAt position: (Int, Int)? = nil,
                        file: StaticString = #filePath, line: UInt = #line) {
        do {
            let path = try tempDir() + "/tokenizer.json"
            try json.write(toFile: path, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try TokenizerJSON.load(path: path), file: file, line: line) { error in
                guard let e = error as? TokenizerError else { return XCTFail("untyped error \(error)", file: file, line: line) }
                XCTAssertTrue(e.errorDescription?.hasPrefix(path) ?? false, "message lacks the file: \(e.localizedDescription)",
                              file: file, line: line)
                if let position {
                    guard case let .invalidJSON(_, l, c, _) = e else { return XCTFail("\(e)", file: file, line: line) }
                    XCTAssertEqual([l, c], [position.0, position.1], file: file, line: line)
                }
                if let expected { XCTAssertEqual(e, expected.replacingFile(path), file: file, line: line) }
            }
        } catch {
            XCTFail("\(error)", file: file, line: line)
        }
    }
}

private extension TokenizerError {
    func replacingFile(_ path: String) -> TokenizerError {
        switch self {
        case let .malformed(_, p, r): return .malformed(file: path, path: p, reason: r)
        case let .unsupported(_, p, w): return .unsupported(file: path, path: p, what: w)
        default: return self
        }
    }
}
