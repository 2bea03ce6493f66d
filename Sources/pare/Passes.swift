// `pare passes`: the registered passes with their summaries and options (kind, range, default, help).
import ArgumentParser
import Foundation
import ParePasses

struct Passes: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "passes",
        abstract: "List the passes a pipeline may name, with their options.",
        discussion: "--json prints [{\"name\", \"summary\", \"pruning\", \"options\": [{\"name\", \"kind\", \"values\", \"default\", \"help\"}]}].")

    @Flag(help: "Print JSON.")
    var json = false

    struct OptionInfo: Encodable {
        var name: String
        /// int, double, choice, path or string.
        var kind: String
        /// The range (`1...64`) or the choices (`kl|bi`), or null.
        var values: String?
        var `default`: String?
        var help: String

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(kind, forKey: .kind)
            try c.encode(values, forKey: .values)
            try c.encode(`default`, forKey: .default)
            try c.encode(help, forKey: .help)
        }
        enum CodingKeys: String, CodingKey { case name, kind, values, `default`, help }
    }

    struct PassInfo: Encodable {
        var name: String
        var summary: String
        /// Null when the registry does not know.
        var pruning: Bool?
        var options: [OptionInfo]

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(summary, forKey: .summary)
            try c.encode(pruning, forKey: .pruning)
            try c.encode(options, forKey: .options)
        }
        enum CodingKeys: String, CodingKey { case name, summary, pruning, options }
    }

    static func info(_ spec: OptionSpec) -> OptionInfo {
        let (kind, values): (String, String?)
        switch spec.kind {
        case .int(let r): (kind, values) = ("int", "\(r.lowerBound)...\(r.upperBound)")
        case .double(let r): (kind, values) = ("double", "\(r.lowerBound)...\(r.upperBound)")
        case .choice(let cs): (kind, values) = ("choice", cs.joined(separator: "|"))
        case .path: (kind, values) = ("path", nil)
        case .string: (kind, values) = ("string", nil)
        }
        return OptionInfo(name: spec.name, kind: kind, values: values, default: spec.defaultValue, help: spec.help)
    }

    func run() throws {
        try reportingErrors {
            let registry = PassRegistry.standard
            let infos = registry.entries.map { e in
                PassInfo(name: e.name, summary: e.summary, pruning: e.isPruning, options: e.options.map(Self.info))
            }
            if json {
                try printJSON(infos)
                return
            }
            var lines: [String] = []
            for p in infos {
                lines.append("\(p.name)\(p.pruning == true ? " (pruning, KL-checked)" : ""): \(p.summary)")
                for o in p.options {
                    var t = "    \(o.name)=<\(o.values ?? o.kind)>"
                    t = t.padding(toLength: max(t.count, 36), withPad: " ", startingAt: 0)
                    t += " " + o.help + (o.default.map { " (default: \($0))" } ?? "")
                    lines.append(t)
                }
            }
            lines.append("")
            lines.append("Pipeline: pass{option=value,...},pass,...   e.g. layer-prune{count=3},dce")
            print(lines.joined(separator: "\n"))
        }
    }
}
