// Diagnostics: located errors, warnings and notes, printed `file:line:col: error: msg` like a compiler.
import Foundation

/// Where a diagnostic points: a place in IR text, or (for a module built in memory) a description of the entity.
public enum DiagnosticLocation: Sendable, Hashable, CustomStringConvertible {
    /// A position in parsed IR text.
    case source(SourceLocation)
    /// A description of the entity, e.g. `forward: %12 (linear, block 3)` or `param @blk.0.attn_q.weight`.
    case entity(String)

    public var description: String {
        switch self {
        case .source(let l): return l.description
        case .entity(let s): return s
        }
    }

    /// The source location, if the diagnostic points into text.
    public var sourceLocation: SourceLocation? {
        if case .source(let l) = self { return l }
        return nil
    }
}

/// One diagnostic with optional notes (each itself a located diagnostic of severity `.note`).
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    /// How serious a diagnostic is. Only errors make a module invalid.
    public enum Severity: String, Sendable, Hashable {
        case error, warning, note
    }

    /// Error, warning or note.
    public var severity: Severity
    /// What is wrong, in words a user can act on.
    public var message: String
    /// Where: a place in text, or a description of the entity.
    public var location: DiagnosticLocation
    /// Related places, e.g. the first definition when a value is defined twice.
    public var notes: [Diagnostic]

    /// Creates a diagnostic.
    public init(_ severity: Severity, _ message: String, at location: DiagnosticLocation, notes: [Diagnostic] = []) {
        self.severity = severity
        self.message = message
        self.location = location
        self.notes = notes
    }

    /// `file:line:col: error: message`, followed by one line per note.
    public var description: String {
        ([("\(location): \(severity.rawValue): \(message)")] + notes.map(\.description)).joined(separator: "\n")
    }
}

/// Thrown by `verifyOrThrow` when a module has errors; carries every diagnostic.
public struct VerificationError: Error, LocalizedError, Sendable {
    /// All diagnostics the verifier produced (errors and warnings).
    public var diagnostics: [Diagnostic]

    /// Creates the error from the verifier's diagnostics.
    public init(diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    /// The errors only.
    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }

    public var errorDescription: String? {
        let n = errors.count
        return "IR verification failed with \(n) error\(n == 1 ? "" : "s"):\n"
            + diagnostics.map(\.description).joined(separator: "\n")
    }
}
