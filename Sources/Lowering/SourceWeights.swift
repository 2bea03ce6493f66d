// Source weights: a matrix whose view chain keeps whole rows (row selection, the rotary row permutation, stacked
// parameters) is written with the checkpoint's own blocks, bit for bit, instead of as float32. A view that cuts
// inside rows (column selection) makes the matrix float32; a folded norm's gain (`scale_cols`, last in the chain)
// is kept apart and applied to the activation, because scaling columns would change every block.
import PareCheckpoint
import PareIR
import PareInterpreter
import ParePlan

/// How `pare compile` stores weight matrices.
public enum WeightFormat: String, CaseIterable, Sendable {
    /// Every tensor float32 (the reference: the runtime then computes as the interpreter does).
    case f32
    /// Matrices in the checkpoint's own block format where whole rows survive; a matrix whose blocks a column
    /// selection cut is re-encoded as q8_0 (a KL-checked `quantize` pass); vectors f32. A checkpoint without blocks
    /// (Hugging Face safetensors) gives f32 throughout.
    case source
    /// As `source`, then every matrix stored wider than the target re-encoded (KL-checked `quantize` pass): f16.
    case f16
    /// ... q8_0.
    case q8
    /// ... 4-bit blocks (see `quantizePass`).
    case q4

    /// Whether lowering copies the checkpoint's blocks where whole rows survive.
    public var usesSourceBlocks: Bool { self != .f32 }

    /// The `quantize` pass this choice appends to the pruning pipeline (KL-checked like a pruning pass), or nil.
    public var quantizePass: String? {
        switch self {
        case .f32: return nil
        case .source: return "quantize{all=q8_0,scope=cut}"
        case .f16: return "quantize{all=f16}"
        case .q8: return "quantize{all=q8_0}"
        case .q4: return WeightFormat.q4Pass
        }
    }

    /// What `--weights q4` means (measured in docs/RESULTS.md, "Re-encoded weights").
    public static let q4Pass = "quantize{blocks=q4_1,embedding=q4_0,head=q4_1}"
}

/// Raw tensors of a checkpoint: its block bytes, as stored.
public protocol RawTensorSource: AnyObject {
    /// The tensor's ggml type number and bytes (rows of whole blocks, row-major), or nil when it has none
    /// (a safetensors checkpoint, an unknown name).
    func rawTensor(_ name: String) -> (ggmlType: Int, bytes: UnsafeRawBufferPointer)?
}

/// A matrix as row-stacked parts, each in one block format, and the norm gain kept apart (a parameter name).
struct RawMatrix {
    struct Part {
        var dtype: PlanDType
        /// Bytes per row.
        var rowBytes: Int
        /// The source tensor and row of each row, in order (empty for an encoded part).
        var rows: [(tensor: String, row: Int)]
        /// An encoded part: the parameter's chain before its `quantize(...)` view, materialised then encoded in
        /// `dtype` (exactly what the interpreter's `quantize(...)` view decodes).
        var encoded: Parameter? = nil

        /// Rows in the part.
        var rowCount: Int { encoded?.shape.first ?? rows.count }

        /// Equal for parts with the same bytes: the dtype and the runs of consecutive source rows, or the encoded
        /// chain.
        var contentKey: String {
            var out = dtype.rawValue
            if let e = encoded { return out + "|encoded|\(e.source.tensor)|\(e.views)" }
            var i = 0
            while i < rows.count {
                var j = i
                while j + 1 < rows.count, rows[j + 1].tensor == rows[i].tensor, rows[j + 1].row == rows[j].row + 1 { j += 1 }
                out += "|\(rows[i].tensor):\(rows[i].row)+\(j - i + 1)"
                i = j + 1
            }
            return out
        }
    }
    var parts: [Part]
    var gain: String?
}

/// Resolves parameters to their source rows and encoded parts.
struct SourceRows {
    /// The checkpoint's blocks; nil when they are not to be used (`--weights f32`, a checkpoint without blocks).
    let raw: RawTensorSource?
    let parameters: [String: Parameter]
    /// Materialises a parameter to float32 (the interpreter's weight store), for encoded parts.
    let materialize: (Parameter) throws -> [Float]

    /// `p` as source or encoded rows, or nil (then it is float32): some view cuts inside rows with no
    /// `quantize(...)` after it, the source has no supported blocks, a row view follows `quantize(...)`, or the gain is
    /// not the last view.
    func matrix(_ p: Parameter, depth: Int = 0) -> RawMatrix? {
        guard depth < 8, p.shape.count == 2, p.source.shape.count == 2 else { return nil }
        // nil: float rows so far (no blocks, or cut inside them); a later quantize(...) makes them an encoded part.
        var parts: [RawMatrix.Part]?
        if let raw, let (code, bytes) = raw.rawTensor(p.source.tensor), let dtype = PlanDType(ggmlType: code),
           let rowBytes = dtype.byteCount(shape: [p.source.shape[1]]), rowBytes > 0,
           bytes.count == rowBytes * p.source.shape[0] {
            parts = [RawMatrix.Part(dtype: dtype, rowBytes: rowBytes, rows: (0..<p.source.shape[0]).map { (p.source.tensor, $0) })]
        }
        var gain: String?
        for (k, view) in p.views.enumerated() {
            guard gain == nil else { return nil } // a view after the gain would act on scaled columns
            switch view {
            case .rows(let idx):
                guard var ps = parts else { continue }
                guard ps.count == 1, ps[0].encoded == nil else { return nil }
                let rows = ps[0].rows
                guard idx.allSatisfy({ $0 >= 0 && $0 < rows.count }) else { return nil }
                ps[0].rows = idx.map { rows[$0] }
                parts = ps
            case .unpermuteRoPE(let heads):
                guard var ps = parts else { continue }
                // As the interpreter: row h·d + j·(d/2) + i is the stored row h·d + 2i + j.
                guard ps.count == 1, ps[0].encoded == nil, heads > 0, ps[0].rows.count % heads == 0 else { return nil }
                let rows = ps[0].rows, d = rows.count / heads, half = d / 2
                guard d % 2 == 0 else { return nil }
                var out = rows
                for h in 0..<heads { for i in 0..<half { for j in 0..<2 { out[h * d + j * half + i] = rows[h * d + 2 * i + j] } } }
                ps[0].rows = out
                parts = ps
            case .appendRows(let other, let n):
                guard var ps = parts, let o = parameters[other], let m = matrix(o, depth: depth + 1), m.gain == nil,
                      m.parts.reduce(0, { $0 + $1.rowCount }) == n else { return nil }
                for part in m.parts {
                    if let last = ps.last, last.encoded == nil, part.encoded == nil, last.dtype == part.dtype, last.rowBytes == part.rowBytes {
                        ps[ps.count - 1].rows += part.rows
                    } else {
                        ps.append(part)
                    }
                }
                parts = ps
            case .scaleCols(let g):
                gain = g
            case .cols:
                parts = nil
            case .quantize(let format):
                var prefix = p
                prefix.views = Array(p.views[..<k])
                guard let shape = prefix.derivedShape(), shape.count == 2, let dtype = PlanDType(rawValue: format),
                      let rowBytes = dtype.byteCount(shape: [shape[1]]), rowBytes > 0 || shape[1] == 0 else { return nil }
                prefix.shape = shape
                parts = [RawMatrix.Part(dtype: dtype, rowBytes: rowBytes, rows: [], encoded: prefix)]
            }
        }
        guard let parts, parts.reduce(0, { $0 + $1.rowCount }) == p.shape[0] else { return nil }
        return RawMatrix(parts: parts, gain: gain)
    }

    /// The bytes of `part`: row by row from the source, or the encoded chain.
    func bytes(_ part: RawMatrix.Part) throws -> [UInt8] {
        if let e = part.encoded {
            return try encodeRows(Tensor(shape: e.shape, data: try materialize(e)), format: part.dtype.rawValue, parameter: e.name)
        }
        var out = [UInt8]()
        out.reserveCapacity(part.rows.count * part.rowBytes)
        var current: (name: String, bytes: UnsafeRawBufferPointer)?
        for (tensor, row) in part.rows {
            if current?.name != tensor, let r = raw?.rawTensor(tensor) { current = (tensor, r.bytes) }
            guard let c = current, c.name == tensor else { continue }
            out += c.bytes[(row * part.rowBytes)..<((row + 1) * part.rowBytes)]
        }
        return out
    }
}

/// A GGUF file's tensors as stored, for `--weights source`.
public final class GGUFBlocks: RawTensorSource {
    public let file: GGUFFile
    public init(_ file: GGUFFile) { self.file = file }
    /// The reader's blocks when it is a GGUF file; nil for a safetensors checkpoint (its tensors have no blocks).
    public convenience init?(reader: TensorReader) {
        guard let f = reader as? GGUFFile else { return nil }
        self.init(f)
    }

    public func rawTensor(_ name: String) -> (ggmlType: Int, bytes: UnsafeRawBufferPointer)? {
        guard let type = file.ggmlType(name), let bytes = try? file.rawBytes(name) else { return nil }
        return (Int(type.rawValue), bytes)
    }
}
