// The printer: canonical, deterministic text that never prints weights.
import XCTest
import PareIR

final class IRPrinterTests: XCTestCase {
    /// A minimal valid module: embed -> final norm -> tied head, no blocks.
    static func minimal(firstValue: Int = 1, attributes: [String: Attribute] = ["eps": .float(1e-6)]) -> Module {
        let table = Parameter(name: "tok.emb", shape: [4, 2], source: TensorSource(tensor: "tok.emb", encoding: "f16", shape: [4, 2]))
        let norm = Parameter(name: "norm", shape: [2], source: TensorSource(tensor: "norm", encoding: "f32", shape: [2]))
        var b = Builder(firstValue: firstValue)
        let tokens = Value(firstValue - 1)
        let e = b.op(.embed, [.param("tok.emb"), .value(tokens)], type: .activations(2))
        let n = b.op(.rmsNorm, [.value(e), .param("norm")], attributes, type: .activations(2))
        let l = b.op(.linear, [.value(n), .param("tok.emb")], type: .activations(4))
        return Module(name: "m", metadata: [("architecture", .string("llama")), ("source.format", .string("hf")),
                                            ("source.path", .string("/models/m")),
                                            ("source.sha256", .string(String(repeating: "0", count: 64)))],
                      blocks: [], parameters: [table, norm],
                      vocabulary: Vocabulary(size: 4, mergeCount: 0, preTokenizer: "gpt2", specials: []),
                      function: Function(arguments: [("tokens", tokens, TensorType([.seq], .i32))], ops: b.ops, result: l))
    }

    func testExactText() {
        XCTAssertEqual(printModule(Self.minimal()), """
        // pare ir v1
        module @m {
          metadata {
            architecture = "llama"
            source.format = "hf"
            source.path = "/models/m"
            source.sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
          }
          vocabulary bpe {size = 4, merges = 0, pre_tokenizer = "gpt2"}

          param @tok.emb : tensor<4x2xf32> = load "tok.emb" f16 [4, 2]
          param @norm : tensor<2xf32> = load "norm" f32 [2]

          func @forward(%tokens: tensor<?xi32>) -> tensor<?x4xf32> {
            %0 = embed @tok.emb, %tokens : tensor<?x2xf32>
            %1 = rms_norm %0, @norm {eps = 1e-06} : tensor<?x2xf32>
            %2 = linear %1, @tok.emb : tensor<?x4xf32>
            return %2
          }
        }

        """)
        XCTAssertEqual(verify(Self.minimal()), [])
    }

    func testNumberingDoesNotDependOnValueIDs() {
        XCTAssertEqual(printModule(Self.minimal(firstValue: 1)), printModule(Self.minimal(firstValue: 100)))
        XCTAssertEqual(Self.minimal(firstValue: 100).canonicalized(), Self.minimal(firstValue: 1))
    }

    func testAttributesAreSortedByName() {
        let m = Self.minimal(attributes: ["zeta": .int(1), "eps": .float(1e-6), "alpha": .bool(true)])
        XCTAssertTrue(printModule(m).contains("rms_norm %0, @norm {alpha = true, eps = 1e-06, zeta = 1} :"), printModule(m))
        XCTAssertEqual(printModule(m), printModule(m), "printing is deterministic")
    }

    func testModuleTextProperty() {
        XCTAssertEqual(Self.minimal().text, printModule(Self.minimal()))
    }

    func testWeightsAreNeverPrintedEvenWhenLoaded() {
        var m = tinyModule(blocks: 1)
        m.vocabulary.bpe = BPEModel(tokens: (0..<10).map { "tok\($0)" }, kinds: Array(repeating: .normal, count: 10),
                                    merges: [("SECRETMERGE", "x")], preTokenizer: "smollm")
        let text = printModule(m)
        XCTAssertFalse(text.contains("SECRETMERGE"))
        XCTAssertFalse(text.contains("tok3"))
        XCTAssertEqual(text, printModule(tinyModule(blocks: 1)), "the BPE tables do not print")
    }

    func testInvalidModulesStillPrint() {
        var m = Self.minimal()
        m.function.ops[1].operands[0] = .value(Value(77))  // never defined
        m.function.result = Value(99)
        let text = printModule(m)
        XCTAssertTrue(text.contains("rms_norm %undefined.77, @norm"), text)
        XCTAssertTrue(text.contains("-> <undefined> {"), text)
        XCTAssertThrowsError(try parseModule(text, file: "bad.pir"))
    }

    func testViewsAndIdMapPrintAsRanges() {
        var m = tinyModule(blocks: 1)
        m.vocabulary.idMap = IndexList([0, 1, 2, 3, 5, 7, 8, 9, 10, 11])
        m.vocabulary.sourceSize = 12
        m.parameters[0].views = [.rows(IndexList([0, 1, 2, 3, 5, 7, 8, 9, 10, 11]))]
        let text = printModule(m)
        XCTAssertTrue(text.contains("vocabulary bpe {size = 10, merges = 3, pre_tokenizer = \"smollm\", source_size = 12} {\n"), text)
        XCTAssertTrue(text.contains("    id_map = [0..3, 5, 7..11]\n"), text)
        XCTAssertTrue(text.contains("= load \"token_embd.weight\" q8_0 [10, 8] | rows([0..3, 5, 7..11])\n"), text)
    }
}
