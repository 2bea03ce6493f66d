// `pare kl A B`: KL(P_A ‖ Q_B) between two models on calibration text, and the calibration options it shares
// with `pare opt`.
import ArgumentParser
import Foundation
import PareFrontend
import PareIR
import PareInterpreter
import ParePasses

/// Calibration text and how to cut it: shared by `pare opt` and `pare kl`.
struct CalibrationOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Calibration text (default: Pare's shipped data/calibration/code.txt, CPython standard library code).",
                               valueName: "file"))
    var calibration: String?

    @Option(help: ArgumentHelp("Number of calibration sequences (1-256).", valueName: "n"))
    var calibrationSamples = 4

    @Option(help: ArgumentHelp("Tokens per calibration sequence (8-2048).", valueName: "tokens"))
    var calibrationLength = 128

    func validate() throws {
        guard calibrationSamples >= 1 && calibrationSamples <= 256 else {
            throw ValidationError("--calibration-samples must be between 1 and 256, got \(calibrationSamples)")
        }
        guard calibrationLength >= 8 && calibrationLength <= 2048 else {
            throw ValidationError("--calibration-length must be between 8 and 2048, got \(calibrationLength)")
        }
    }

    /// The calibration set, tokenized by `model`'s tokenizer, in source-vocabulary ids.
    func load(for model: LoadedModel) throws -> Calibration {
        try loadCalibration(path: calibration, tokenizer: model.tokenizer, samples: calibrationSamples, length: calibrationLength,
                            idMap: model.module.vocabulary.idMap)
    }
}

/// Held-out text and the budget of the held-out check: shared by `pare opt` and `pare compile`. A pruning pass that
/// changes the tokenizer is checked on this text, each model reading it with its own tokenizer.
struct HeldOutOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Held-out text for passes that change the tokenizer (default: Pare's shipped data/heldout/mixed.txt: "
                               + "code in several languages and prose no shipped corpus contains).", valueName: "file"))
    var heldOut: String?

    @Option(help: ArgumentHelp("Number of held-out pieces (1-256).", valueName: "n"))
    var heldOutSamples = 8

    @Option(help: ArgumentHelp("Bytes per held-out piece (64-65536; a piece ends at the end of a line).", valueName: "bytes"))
    var heldOutBytes = 1024

    @Option(help: ArgumentHelp("Reject a tokenizer-changing pass whose held-out loss per byte grows by more than this share "
                               + "(0.02 = 2%); --kl-budget also bounds its KL at aligned positions.", valueName: "x"))
    var heldOutBudget: Double?

    func validate() throws {
        guard heldOutSamples >= 1 && heldOutSamples <= 256 else {
            throw ValidationError("--held-out-samples must be between 1 and 256, got \(heldOutSamples)")
        }
        guard heldOutBytes >= 64 && heldOutBytes <= 65536 else {
            throw ValidationError("--held-out-bytes must be between 64 and 65536, got \(heldOutBytes)")
        }
        if let heldOutBudget, !(heldOutBudget.isFinite && heldOutBudget >= 0) {
            throw ValidationError("--held-out-budget must be a finite number >= 0, got \(heldOutBudget)")
        }
    }

    /// The held-out pieces.
    func load() throws -> HeldOutText {
        try loadHeldOut(path: heldOut, samples: heldOutSamples, bytes: heldOutBytes)
    }
}

/// Two models whose token ids cannot be compared.
enum KLCompareError: Error, LocalizedError {
    case differentVocabularies(a: String, b: String, detail: String)

    var errorDescription: String? {
        switch self {
        case let .differentVocabularies(a, b, detail):
            return "cannot compare \(a) and \(b): \(detail); KL needs the same token ids (the same source checkpoint, "
                + "or two checkpoints with identical vocabularies)"
        }
    }
}

struct KL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kl",
        abstract: "Measure KL(P_A ‖ Q_B) between two models' next-token distributions on calibration text.",
        discussion: """
            A and B are any two models: typically a checkpoint and a pruned .pir derived from it. The calibration \
            text is tokenized by A's tokenizer; positions are compared where both vocabularies hold the tokens. \
            When B's vocabulary is a pruning of A's, P is renormalised over the tokens B kept and the mass A put on \
            removed tokens is reported separately. Models from different checkpoints must have identical vocabularies.

            Prints mean, median, p99 and max KL (nats) and top-1 agreement; --json prints \
            {"a", "b", "calibration", "kl": {"positions", "mean", "median", "p99", "max", "top1_agreement", \
            "removed_mass_mean", "removed_mass_max"}}.
            """)

    @Argument(help: ArgumentHelp("The reference model (P).", valueName: "a"))
    var a: String

    @Argument(help: ArgumentHelp("The model compared with it (Q).", valueName: "b"))
    var b: String

    @OptionGroup var calibration: CalibrationOptions

    @Flag(help: "Print JSON.")
    var json = false

    struct Output: Encodable {
        var a: String
        var b: String
        var calibration: String
        var kl: KLStatistics
    }

    func run() throws {
        try reportingErrors {
            let modelA = try loadModel(a)
            let modelB = try loadModel(b)
            do { try checkComparable(modelA.module, modelB.module) } catch let e as KLCompareError {
                note("error: " + (e.errorDescription ?? "\(e)"))
                throw ExitCode(64)  // two models that cannot be compared: a usage error
            }
            let cal = try calibration.load(for: modelA)
            let interpA = try Interpreter(module: modelA.module, store: modelA.store)
            let interpB = try Interpreter(module: modelB.module, store: modelB.store)
            let stats = try compareOnCalibration(try cal.comparison(before: modelA.module, after: modelB.module),
                                                 before: modelA.module, after: modelB.module,
                                                 beforeLogits: { _, ids in try interpA.forward(ids) },
                                                 afterLogits: { _, ids in try interpB.forward(ids) })
            if json {
                try printJSON(Output(a: a, b: b, calibration: cal.origin, kl: stats))
            } else {
                print("KL(\(a) ‖ \(b)) on \(cal.origin): \(stats.summary)")
            }
        }
    }

    /// Throws unless the two modules' token ids can be compared.
    func checkComparable(_ ma: Module, _ mb: Module) throws {
        let sa = ma[meta: MetaKey.sourceSHA256]?.stringValue, sb = mb[meta: MetaKey.sourceSHA256]?.stringValue
        if let sa, let sb, sa == sb {
            do { _ = try vocabularyMapping(from: ma.vocabulary, to: mb.vocabulary) } catch {
                throw KLCompareError.differentVocabularies(
                    a: a, b: b, detail: "B's vocabulary keeps tokens A's lacks (give the less pruned model as A)")
            }
            return
        }
        guard ma.vocabulary.idMap == nil && mb.vocabulary.idMap == nil else {
            throw KLCompareError.differentVocabularies(a: a, b: b, detail: "they come from different checkpoints and one has a pruned vocabulary")
        }
        guard ma.vocabulary.size == mb.vocabulary.size else {
            throw KLCompareError.differentVocabularies(
                a: a, b: b, detail: "they come from different checkpoints with \(ma.vocabulary.size) and \(mb.vocabulary.size) tokens")
        }
        if let ta = ma.vocabulary.bpe?.tokens, let tb = mb.vocabulary.bpe?.tokens, ta != tb {
            let i = zip(ta, tb).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(ta.count, tb.count)
            throw KLCompareError.differentVocabularies(
                a: a, b: b, detail: "they come from different checkpoints whose vocabularies differ (first at id \(i))")
        }
    }
}
