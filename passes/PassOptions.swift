// Typed pass options: what each pass declares it accepts, and the values a pipeline string gives it.
import Foundation

/// One option a pass accepts: `count`, `kl-budget`, `criterion`, `corpus`...
public struct OptionSpec: Sendable {
    /// The kinds of value an option takes, with their valid ranges.
    public enum Kind: Sendable {
        case int(ClosedRange<Int>)
        case double(ClosedRange<Double>)
        case choice([String])
        /// A file path (checked to exist when the pass is created).
        case path
        case string
    }

    /// Kebab-case name, as written in pipelines: `protect-first`.
    public var name: String
    public var kind: Kind
    /// Default as text, or nil when the option has none (optional or required by the pass).
    public var defaultValue: String?
    /// One line for `--help` and docs/PASSES.md.
    public var help: String

    public init(_ name: String, _ kind: Kind, default defaultValue: String? = nil, help: String) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.help = help
    }

    /// Checks one value's text against this option's kind; the message says what is accepted.
    public func validate(_ text: String) -> String? {
        switch kind {
        case .int(let r):
            guard let v = Int(text) else { return "option '\(name)' expects an integer, got '\(text)'" }
            return r.contains(v) ? nil : "option '\(name)' must be in \(r.lowerBound)...\(r.upperBound), got \(v)"
        case .double(let r):
            guard let v = Double(text), v.isFinite else { return "option '\(name)' expects a number, got '\(text)'" }
            return r.contains(v) ? nil : "option '\(name)' must be in \(r.lowerBound)...\(r.upperBound), got \(v)"
        case .choice(let cs):
            return cs.contains(text) ? nil : "option '\(name)' must be one of \(cs.joined(separator: "|")), got '\(text)'"
        case .path:
            return FileManager.default.fileExists(atPath: text) ? nil : "option '\(name)': no such file '\(text)'"
        case .string:
            return nil
        }
    }
}

/// The option values given to one pass, validated against its specs. Typed getters fall back to the spec's default.
public struct PassOptions: Sendable, Equatable {
    /// Values as written, by option name.
    public private(set) var values: [String: String]
    /// Specs by name (not part of equality).
    private let specs: [String: OptionSpec]

    public static func == (a: PassOptions, b: PassOptions) -> Bool { a.values == b.values }

    /// Validates `values` against `specs`; throws `PassError.badOption` naming the option and what is accepted.
    public init(_ values: [String: String], specs: [OptionSpec], pass: String) throws {
        var byName: [String: OptionSpec] = [:]
        for s in specs { byName[s.name] = s }
        for (k, v) in values {
            guard let spec = byName[k] else {
                throw PassError.badOption(pass: pass, option: k, message: "unknown option '\(k)'; \(pass) accepts: "
                    + (specs.isEmpty ? "no options" : specs.map(\.name).joined(separator: ", ")))
            }
            if let problem = spec.validate(v) { throw PassError.badOption(pass: pass, option: k, message: problem) }
        }
        self.values = values
        self.specs = byName
    }

    /// True if the option was given explicitly.
    public func has(_ name: String) -> Bool { values[name] != nil }
    /// The value as text, or the default.
    public func string(_ name: String) -> String? { values[name] ?? specs[name]?.defaultValue }
    public func int(_ name: String) -> Int? { string(name).flatMap { Int($0) } }
    public func double(_ name: String) -> Double? { string(name).flatMap { Double($0) } }

    /// `count=3,criterion=kl` (explicit values, sorted by name): how the pass is spelled in a pipeline.
    public var spelling: String { values.keys.sorted().map { "\($0)=\(values[$0]!)" }.joined(separator: ",") }
}
