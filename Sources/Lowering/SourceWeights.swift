// Source weights: a matrix whose view chain keeps whole rows (row selection, the rotary row permutation, stacked
// parameters) is written with the checkpoint's own blocks, bit for bit, instead of as float32. A view that cuts
// inside rows (column selection) makes the matrix float32; a folded norm's gain (`scale_cols`, last in the chain)
// is kept apart and applied to the activation, because scaling columns would change every block.
import PareCheckpoint
import PareIR
import ParePlan

/// How `pare compile` stores weight matrices.
public enum WeightFormat: String, CaseIterable, Sendable {
    /// Every tensor float32 (the reference: the runtime then computes as the interpreter does).
    case f32
    /// Matrices in the checkpoint's own block format where whole rows survive (else f32); vectors f32. A checkpoint
    /// without blocks (Hugging Face safetensors) gives f32 throughout.
    case source
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
        /// The source tensor and row of each row, in order.
        var rows: [(tensor: String, row: Int)]

        /// Equal for parts with the same bytes: the dtype and the runs of consecutive source rows.
        var contentKey: String {
            var out = dtype.rawValue
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

/// Resolves parameters to their source rows.
struct SourceRows {
    let raw: RawTensorSource
    let parameters: [String: Parameter]

    /// `p` as source rows, or nil when some view cuts inside rows, the source has no supported blocks, or the
    /// gain is not the last view.
    func matrix(_ p: Parameter, depth: Int = 0) -> RawMatrix? {
        guard depth < 8, p.shape.count == 2, p.source.shape.count == 2,
              let (code, bytes) = raw.rawTensor(p.source.tensor), let dtype = PlanDType(ggmlType: code),
              let rowBytes = dtype.byteCount(shape: [p.source.shape[1]]), rowBytes > 0,
              bytes.count == rowBytes * p.source.shape[0] else { return nil }
        var parts = [RawMatrix.Part(dtype: dtype, rowBytes: rowBytes, rows: (0..<p.source.shape[0]).map { (p.source.tensor, $0) })]
        var gain: String?
        for view in p.views {
            guard gain == nil else { return nil } // a view after the gain would act on scaled columns
            switch view {
            case .rows(let idx):
                guard parts.count == 1 else { return nil }
                let rows = parts[0].rows
                guard idx.allSatisfy({ $0 >= 0 && $0 < rows.count }) else { return nil }
                parts[0].rows = idx.map { rows[$0] }
            case .unpermuteRoPE(let heads):
                // As the interpreter: row h·d + j·(d/2) + i is the stored row h·d + 2i + j.
                guard parts.count == 1, heads > 0, parts[0].rows.count % heads == 0 else { return nil }
                let rows = parts[0].rows, d = rows.count / heads, half = d / 2
                guard d % 2 == 0 else { return nil }
                var out = rows
                for h in 0..<heads { for i in 0..<half { for j in 0..<2 { out[h * d + j * half + i] = rows[h * d + 2 * i + j] } } }
                parts[0].rows = out
            case .appendRows(let other, let n):
                guard let o = parameters[other], let m = matrix(o, depth: depth + 1), m.gain == nil,
                      m.parts.reduce(0, { $0 + $1.rows.count }) == n else { return nil }
                for part in m.parts {
                    if let last = parts.last, last.dtype == part.dtype, last.rowBytes == part.rowBytes {
                        parts[parts.count - 1].rows += part.rows
                    } else {
                        parts.append(part)
                    }
                }
            case .scaleCols(let g):
                gain = g
            case .cols:
                return nil
            }
        }
        guard parts.reduce(0, { $0 + $1.rows.count }) == p.shape[0] else { return nil }
        return RawMatrix(parts: parts, gain: gain)
    }

    /// The bytes of `part`, row by row from the source.
    func bytes(_ part: RawMatrix.Part) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(part.rows.count * part.rowBytes)
        var current: (name: String, bytes: UnsafeRawBufferPointer)?
        for (tensor, row) in part.rows {
            if current?.name != tensor, let r = raw.rawTensor(tensor) { current = (tensor, r.bytes) }
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
