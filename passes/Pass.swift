// The pass protocol, pass statistics, the registry of passes by name, and running one pass with verification.
import Foundation
import PareIR

/// A rewrite pass. It changes the module only through the `Rewriter` it is given, and reports statistics.
/// Its `name` is its command-line spelling and its name in pipeline strings (`dce`, `ffn-prune`).
public protocol Pass {
    /// Kebab-case name: `dce`, `layer-prune`.
    var name: String { get }
    /// One line saying what the pass does.
    var summary: String { get }
    /// True for passes that remove parameters: the pass manager measures the KL divergence they cause on
    /// calibration data and rejects them over the budget, leaving the module as it was.
    var isPruning: Bool { get }
    /// Rewrites the module held by `rewriter`; returns what it did, in a stable order. `context` gives
    /// weights and calibration data to passes that score candidates.
    func run(_ rewriter: inout Rewriter, context: PassContext) throws -> PassStatistics
}

extension Pass {
    public var isPruning: Bool { false }
}

/// What a pass did, as an ordered list of named values: `ops erased = 12, parameters erased = 9`.
public struct PassStatistics: Sendable, Equatable, CustomStringConvertible {
    /// The entries in the order the pass reported them.
    public private(set) var entries: [(name: String, value: Attribute)] = []

    /// No entries.
    public init() {}

    /// Appends an entry (a name may appear once; a second `add` replaces the value in place).
    public mutating func add(_ name: String, _ value: Attribute) {
        if let i = entries.firstIndex(where: { $0.name == name }) { entries[i].value = value } else { entries.append((name, value)) }
    }

    /// Appends an integer entry.
    public mutating func add(_ name: String, _ value: Int) { add(name, .int(value)) }

    /// The value of an entry, if reported.
    public subscript(_ name: String) -> Attribute? { entries.first { $0.name == name }?.value }

    public static func == (a: PassStatistics, b: PassStatistics) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    /// `ops erased = 3, parameters erased = 2`.
    public var description: String { entries.map { "\($0.name) = \($0.value)" }.joined(separator: ", ") }
}

/// The passes Pare knows, by name: what pipeline strings (`Pipeline.resolve`) and `pare passes` look up.
public struct PassRegistry {
    /// A registered pass: its name, summary, options, and how to make one from option values.
    public struct Entry {
        /// The pass name (kebab-case).
        public var name: String
        /// The pass summary.
        public var summary: String
        /// The options it accepts.
        public var options: [OptionSpec]
        /// Makes an instance from validated options (throws `PassError.badOption` for inconsistent ones).
        public var make: (PassOptions) throws -> any Pass

        /// Whether the pass prunes, when the registration says so.
        public var declaredPruning: Bool?

        /// True for pruning passes (KL-checked by the pass manager): as declared, else read from an instance made
        /// with default options; nil when neither is possible (an option without default is required).
        public var isPruning: Bool? {
            declaredPruning ?? (try? PassOptions([:], specs: options, pass: name)).flatMap { try? make($0) }.map(\.isPruning)
        }

        /// Creates an entry; passes with options register one: `r.register(LayerPrune.entry)`.
        public init(name: String, summary: String, options: [OptionSpec], isPruning: Bool? = nil,
                    make: @escaping (PassOptions) throws -> any Pass) {
            self.name = name
            self.summary = summary
            self.options = options
            self.make = make
            self.declaredPruning = isPruning
        }
    }

    /// Registered passes in registration order.
    public private(set) var entries: [Entry] = []

    /// An empty registry.
    public init() {}

    /// Every built-in pass.
    public static var standard: PassRegistry {
        var r = PassRegistry()
        r.register { DeadCodeElimination() }
        r.register(VocabPrune.entry)
        r.register(LayerPrune.entry)
        r.register(FFNPrune.entry)
        r.register(Quantize.entry)
        // Lowering (exact rewrites toward the execution plan; `loweringPipeline` runs them in order).
        r.register { FuseQKV() }
        r.register { FuseGateUp() }
        r.register { FoldNorms() }
        r.register { PlanMemory() }
        return r
    }

    /// Registers a pass without options under the name and summary of the pass it makes.
    public mutating func register(_ make: @escaping () -> any Pass) {
        let sample = make()
        register(Entry(name: sample.name, summary: sample.summary, options: [], isPruning: sample.isPruning, make: { _ in make() }))
    }

    /// Registers an entry (replacing one of the same name).
    public mutating func register(_ e: Entry) {
        if let i = entries.firstIndex(where: { $0.name == e.name }) { entries[i] = e } else { entries.append(e) }
    }

    /// The entry called `name`, or nil.
    public func entry(named name: String) -> Entry? { entries.first { $0.name == name } }

    /// The registered names, in order.
    public var names: [String] { entries.map(\.name) }

    /// A new instance of the pass called `name` with default options, or nil.
    public func pass(named name: String) -> (any Pass)? {
        guard let e = entry(named: name), let o = try? PassOptions([:], specs: e.options, pass: name) else { return nil }
        return try? e.make(o)
    }
}

/// A pass failed, or left a module the verifier rejects.
public enum PassError: Error, LocalizedError {
    /// The module after `pass` has verifier errors; the module before it is kept.
    case verificationFailed(pass: String, diagnostics: [Diagnostic])
    /// No pass has this name.
    case unknownPass(String, known: [String])
    /// An option value is unknown, malformed, out of range, or inconsistent with the others.
    case badOption(pass: String, option: String, message: String)
    /// The pass needs data the context lacks (weights, calibration).
    case needsData(pass: String, what: String)

    public var errorDescription: String? {
        switch self {
        case .verificationFailed(let pass, let d):
            return "pass '\(pass)' produced invalid IR:\n" + d.map(\.description).joined(separator: "\n")
        case .unknownPass(let name, let known):
            return "unknown pass '\(name)'; known passes: \(known.joined(separator: ", "))"
        case .badOption(let pass, _, let message):
            return "\(pass): \(message)"
        case .needsData(let pass, let what):
            return "\(pass) needs \(what): run it from `pare opt` on a model (not a bare .pir text) with calibration data"
        }
    }
}

/// The outcome of running one pass.
public struct PassResult {
    /// The module after the pass.
    public var module: Module
    /// What the pass reported.
    public var statistics: PassStatistics
    /// True if the pass changed the module.
    public var changed: Bool
}

/// Runs `pass` on `module` and, when `verifyAfter` (the default), verifies the result; throws
/// `PassError.verificationFailed` if the pass left invalid IR.
public func runPass(_ pass: any Pass, on module: Module, context: PassContext = .structural, verifyAfter: Bool = true) throws -> PassResult {
    var r = Rewriter(module)
    let stats = try pass.run(&r, context: context)
    if verifyAfter {
        let d = verify(r.module)
        if d.contains(where: { $0.severity == .error }) { throw PassError.verificationFailed(pass: pass.name, diagnostics: d) }
    }
    return PassResult(module: r.module, statistics: stats, changed: r.changed)
}
