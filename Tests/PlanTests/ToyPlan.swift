// A small synthetic plan for the plan tests: two blocks of fused kernels with deterministic pseudo-random weights.
import Foundation
import XCTest
import ParePlan

/// The toy model: hidden 16, vocabulary 32, 4 query heads and 2 KV heads of 4 floats, FFN 24, two blocks.
///
///   embed -> per block: qkv_rope (folded norm) -> attention_qkv -> linear -> add -> swiglu (folded norm) -> linear -> add
///         -> linear with eps (folded final norm) = logits [rows, 32]
enum Toy {
    static let hidden = 16, vocab = 32, heads = 4, kvHeads = 2, headDim = 4, ffn = 24, blocks = 2

    /// The toy plan with tensors laid out as `PlanDirectory.write` lays them out (checksums 0, sha256 empty) and
    /// buffers placed first-fit by liveness. It passes `validate()`.
    static func plan() -> ExecutionPlan {
        var tensors: [TensorEntry] = []
        var buffers: [BufferEntry] = []
        var steps: [Step] = []
        func tensor(_ name: String, _ shape: [Int]) -> Int {
            tensors.append(TensorEntry(name: name, dtype: .f32, shape: shape, offset: 0, length: 0, checksum: 0))
            return tensors.count - 1
        }
        func buffer(_ name: String, _ width: Int) -> Int {
            buffers.append(BufferEntry(name: name, width: width, offset: 0))
            return buffers.count - 1
        }
        let qkvWidth = (heads + 2 * kvHeads) * headDim, qWidth = heads * headDim
        var x = buffer("%0", hidden)
        steps.append(Step(kernel: .embed, inputs: [], weights: [tensor("token_embd", [vocab, hidden])], output: x))
        for b in 0..<blocks {
            let qkvW = tensor("blk.\(b).attn_qkv", [qkvWidth, hidden]), qkvB = tensor("blk.\(b).attn_qkv.bias", [qkvWidth])
            let qkv = buffer("%b\(b).qkv", qkvWidth)
            steps.append(Step(kernel: .qkvRope, block: b, inputs: [x], weights: [qkvW, qkvB], output: qkv, eps: 1e-6,
                              heads: heads, kvHeads: kvHeads, headDim: headDim, theta: 10000))
            let att = buffer("%b\(b).att", qWidth)
            steps.append(Step(kernel: .attentionQKV, block: b, inputs: [qkv], output: att, heads: heads, kvHeads: kvHeads,
                              headDim: headDim, kvSlot: b))
            let o = buffer("%b\(b).o", hidden)
            steps.append(Step(kernel: .linear, block: b, inputs: [att], weights: [tensor("blk.\(b).attn_output", [hidden, qWidth])], output: o))
            let x1 = buffer("%b\(b).x1", hidden)
            steps.append(Step(kernel: .add, block: b, inputs: [x, o], output: x1))
            let f = buffer("%b\(b).ffn", ffn)
            steps.append(Step(kernel: .swiglu, block: b, inputs: [x1], weights: [tensor("blk.\(b).ffn_gate_up", [2 * ffn, hidden])],
                              output: f, eps: 1e-6, ffn: ffn))
            let d = buffer("%b\(b).down", hidden)
            steps.append(Step(kernel: .linear, block: b, inputs: [f], weights: [tensor("blk.\(b).ffn_down", [hidden, ffn])], output: d))
            let x2 = buffer("%b\(b).x2", hidden)
            steps.append(Step(kernel: .add, block: b, inputs: [x1, d], output: x2))
            x = x2
        }
        let logits = buffer("%logits", vocab)
        steps.append(Step(kernel: .linear, inputs: [x], weights: [tensor("output", [vocab, hidden])], output: logits, eps: 1e-5))

        var end = 0
        for i in tensors.indices {
            tensors[i].offset = (end + 63) / 64 * 64
            tensors[i].length = tensors[i].count * 4
            end = tensors[i].offset + tensors[i].length
        }
        let rowFloats = placeFirstFit(&buffers, steps: steps, output: logits)
        let kinds = (0..<vocab).map { $0 < 2 ? "control" : ($0 < 6 ? "byte" : "normal") }
        return ExecutionPlan(
            provenance: Provenance(
                modelName: "toy-2x16", architecture: "llama", sourceFormat: "gguf", sourcePath: "/models/toy \"v1\".gguf",
                sourceSHA256: String(repeating: "ab", count: 32), pipeline: "vocab-prune{keep=32},layer-prune{count=1}",
                lowering: "fuse-qkv,fuse-gate-up,fold-norms,plan-memory",
                seeds: [MetadataEntry(key: "decision.0.seed", value: "7")],
                kl: [KLReport(pass: "layer-prune{count=1}", mean: 0.031, median: 0.0125, p99: 0.5, max: 1.75,
                              top1Agreement: 0.9375, positions: 4096)],
                metadata: [MetadataEntry(key: "decision.0.kept", value: "[0..31]"),
                           MetadataEntry(key: "note", value: "tab\there, newline\nthere, back\\slash, Größe ✓")],
                pareVersion: "0.4.0"),
            tokenizer: PlanTokenizer(
                tokens: (0..<vocab).map { "t\($0)" }, kinds: kinds,
                merges: [MergePair(left: "t", right: "1"), MergePair(left: "t1", right: "2")], preTokenizer: "smollm",
                specials: [PlanSpecialToken(role: "bos", id: 0, text: "<|im_start|>"), PlanSpecialToken(role: "eos", id: 1, text: "<|im_end|>")],
                idMap: (0..<vocab).map { $0 * 3 + 1 }, originalSize: 100),
            model: ModelShape(hidden: hidden, vocabSize: vocab, maxContext: 64, maxRows: 8),
            tensors: tensors, buffers: buffers,
            arena: ArenaLayout(rowFloats: rowFloats, noReuseRowFloats: buffers.reduce(0) { $0 + $1.width }),
            kvLayers: (0..<blocks).map { KVLayer(slot: $0, block: $0, kvHeads: kvHeads, headDim: headDim) },
            steps: steps, output: logits,
            weights: WeightBlob(file: "weights.bin", length: end, sha256: ""))
    }

    /// Tensor `i`'s floats: `count` values in [-1, 1) from a xorshift generator seeded by `i`.
    static func weights(_ plan: ExecutionPlan, _ i: Int) -> [Float] {
        var s = UInt64(i + 1) &* 0x9E37_79B9_7F4A_7C15
        return (0..<plan.tensors[i].count).map { _ in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            return Float(Int64(bitPattern: s) >> 40) / Float(1 << 23)
        }
    }

    /// Places buffers first-fit in order of first write, so buffers live at the same step never share floats.
    /// Returns the arena's floats per row.
    private static func placeFirstFit(_ buffers: inout [BufferEntry], steps: [Step], output: Int) -> Int {
        var first = [Int](repeating: Int.max, count: buffers.count), last = [Int](repeating: -1, count: buffers.count)
        for (i, s) in steps.enumerated() {
            for b in s.inputs { last[b] = i }
            first[s.output] = min(first[s.output], i)
            last[s.output] = max(last[s.output], i)
        }
        last[output] = steps.count
        var placed: [Int] = [], rowFloats = 0
        for b in buffers.indices.sorted(by: { first[$0] < first[$1] }) {
            let clashing = placed.filter { first[$0] <= last[b] && first[b] <= last[$0] }
                .map { (buffers[$0].offset, buffers[$0].offset + buffers[$0].width) }.sorted { $0.0 < $1.0 }
            var offset = 0
            for (lo, hi) in clashing where offset + buffers[b].width > lo { offset = max(offset, hi) }
            buffers[b].offset = offset
            rowFloats = max(rowFloats, offset + buffers[b].width)
            placed.append(b)
        }
        return rowFloats
    }
}

/// CRC-32C straight from its definition (reflected polynomial 0x82F63B78, bit at a time): the tests' reference.
func referenceCRC32C(_ bytes: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        c ^= UInt32(b)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
    }
    return ~c
}

/// A fresh empty directory under the system's temporary directory; removed by `removeTemporaryDirectory`.
func makeTemporaryDirectory(_ tag: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.path + "/pare-plan-tests-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Removes a directory made by `makeTemporaryDirectory`.
func removeTemporaryDirectory(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

/// Asserts that `body` throws a `PlanError` accepted by `matches`, with a message naming what went wrong.
func assertPlanError<T>(_ body: @autoclosure () throws -> T, _ what: String, file: StaticString = #filePath, line: UInt = #line,
                        _ matches: (PlanError) -> Bool) {
    do {
        _ = try body()
        XCTFail("\(what): no error thrown", file: file, line: line)
    } catch let e as PlanError {
        XCTAssertTrue(matches(e), "\(what): unexpected error \(e) (\(e.localizedDescription))", file: file, line: line)
        XCTAssertFalse((e.errorDescription ?? "").isEmpty, file: file, line: line)
    } catch {
        XCTFail("\(what): not a PlanError: \(error)", file: file, line: line)
    }
}
