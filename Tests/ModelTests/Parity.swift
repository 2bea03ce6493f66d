// The parity check against transformers' reference outputs, reported like llm.c's check_tensor.
import Foundation
import PareFrontend
import PareInterpreter

/// One case of shared/reference/*/reference.json.
struct ReferenceCase: Decodable {
    struct Position: Decodable {
        var top_ids: [Int]
        var top_logits: [Double]
        var logsumexp: Double
    }
    var prompt: String
    var ids: [Int]
    var positions: [Position]
    var greedy_ids: [Int]
    var greedy_text: String
}

/// A reference file: the model's sha256 and its cases.
struct ReferenceFile: Decodable {
    var model_sha256: String
    var cases: [ReferenceCase]

    static func load(_ dir: String) throws -> ReferenceFile {
        try JSONDecoder().decode(ReferenceFile.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/reference.json")))
    }
}

/// What Pare computed for one case.
struct Observed {
    var ids: [Int]
    /// [positions][vocab] logits.
    var logits: [[Float]]
    var greedy: [Int]
    var greedyText: String
}

/// The verdict on one case, with the numbers behind it.
struct ParityResult {
    var name: String
    var idsEqual: Bool
    var top1Mismatches: Int
    var maxLogitDiff: Double
    var maxLSEDiff: Double
    var greedyEqual: Bool
    var tolerance: Double

    var ok: Bool { idsEqual && top1Mismatches == 0 && maxLogitDiff <= tolerance && maxLSEDiff <= tolerance && greedyEqual }

    /// One report line: `case: max diff ..., tolerance ..., OK`.
    var line: String {
        String(format: "%@: ids %@, top-1 mismatches %d, max |logit diff| %.2e, max |logsumexp diff| %.2e, tolerance %.0e, greedy %@ -> %@",
               name, idsEqual ? "equal" : "DIFFER", top1Mismatches, maxLogitDiff, maxLSEDiff, tolerance,
               greedyEqual ? "identical" : "DIFFERS", ok ? "OK" : "NOT OK")
    }
}

/// Compares Pare's outputs for a case with the reference: ids, top-1 per position, the reference's
/// top-10 logits and log-sum-exp within `tolerance`, and the greedy continuation.
func compare(_ name: String, _ ref: ReferenceCase, _ got: Observed, tolerance: Double = 1e-2) -> ParityResult {
    var top1 = 0, maxLogit = 0.0, maxLSE = 0.0
    let n = min(ref.positions.count, got.logits.count)
    for p in 0..<n {
        let row = got.logits[p], r = ref.positions[p]
        var best = 0
        for i in row.indices where row[i] > row[best] { best = i }
        if best != r.top_ids[0] { top1 += 1 }
        for (id, logit) in zip(r.top_ids, r.top_logits) {
            maxLogit = max(maxLogit, id < row.count ? abs(Double(row[id]) - logit) : .infinity)
        }
        let mx = Double(row.max() ?? 0)
        let lse = mx + log(row.reduce(0.0) { $0 + exp(Double($1) - mx) })
        maxLSE = max(maxLSE, abs(lse - r.logsumexp))
    }
    if got.logits.count != ref.positions.count { top1 += abs(got.logits.count - ref.positions.count) }
    return ParityResult(name: name, idsEqual: got.ids == ref.ids, top1Mismatches: top1, maxLogitDiff: maxLogit, maxLSEDiff: maxLSE,
                        greedyEqual: got.greedy == ref.greedy_ids && got.greedyText == ref.greedy_text, tolerance: tolerance)
}

/// Runs one reference case through a loaded model.
func observe(_ model: LoadedModel, _ interp: Interpreter, _ ref: ReferenceCase) throws -> Observed {
    let ids = model.tokenizer.encode(ref.prompt)
    let logits = try interp.forward(ids)
    let rows = (0..<logits.rows).map { Array(logits.row($0)) }
    let stop = Set(["eos", "eot"].compactMap { model.module.vocabulary.special($0) })
    let greedy = try interp.generateGreedy(prompt: ids, maxTokens: max(ref.greedy_ids.count, 1), stop: stop)
    return Observed(ids: ids, logits: rows, greedy: greedy, greedyText: model.tokenizer.decode(greedy))
}
