// The anatomy of each transformer block in `forward`: where its residual stream enters and leaves, and its
// attention and FFN ops. Layer and FFN pruning find what to slice through this, never by op position.
import PareIR

/// One block's structure, found from the ops tagged with its index.
public struct BlockAnatomy: Sendable {
    /// The block index (`block N` in IR text).
    public var index: Int
    /// Indices into `forward`'s ops of this block's ops (contiguous).
    public var ops: Range<Int>
    /// The residual stream entering the block: the value its first op (the attention norm) reads.
    public var input: Value
    /// The residual stream leaving the block: the result of its last op (the second residual add).
    public var output: Value
    /// The attention op (its `kv_slot` is the block's cache slot).
    public var attention: Op
    /// The FFN projections: gate and up `[ffn, hidden]`, down `[hidden, ffn]`, coupled through the FFN channel.
    public var gate: Op
    public var up: Op
    public var down: Op
}

/// Why a module's blocks could not be read as llama/qwen2-style blocks.
public struct BlockAnatomyError: Error, CustomStringConvertible {
    public var description: String
}

extension Module {
    /// The anatomy of every block, in op order. Requires each block's ops to be contiguous, to start with an
    /// `rms_norm` of the incoming residual and end with an `add`, and to hold one attention op and a SwiGLU FFN
    /// (`down(silu(gate(x)) * up(x))`).
    public func blockAnatomy() throws -> [BlockAnatomy] {
        let ops = function.ops
        var out: [BlockAnatomy] = []
        var i = 0
        while i < ops.count {
            guard let b = ops[i].block else { i += 1; continue }
            var j = i
            while j < ops.count && ops[j].block == b { j += 1 }
            let range = i..<j
            guard out.allSatisfy({ $0.index != b }) else { throw BlockAnatomyError(description: "block \(b)'s ops are not contiguous") }
            guard ops[i].kind == .rmsNorm, let input = ops[i].operands.first?.value else {
                throw BlockAnatomyError(description: "block \(b) does not start with rms_norm of its input")
            }
            guard ops[j - 1].kind == .add else { throw BlockAnatomyError(description: "block \(b) does not end with a residual add") }
            let body = ops[range]
            guard let attention = body.first(where: { $0.kind == .attention }) else {
                throw BlockAnatomyError(description: "block \(b) has no attention op")
            }
            guard let mul = body.last(where: { $0.kind == .mul }),
                  let down = body.first(where: { $0.kind == .linear && $0.operands.first?.value == mul.result }),
                  let siluV = mul.operands.first?.value, let upV = mul.operands.last?.value,
                  let silu = body.first(where: { $0.result == siluV && $0.kind == .silu }),
                  let gate = body.first(where: { $0.result == silu.operands.first?.value && $0.kind == .linear }),
                  let up = body.first(where: { $0.result == upV && $0.kind == .linear }) else {
                throw BlockAnatomyError(description: "block \(b) has no SwiGLU FFN (down(silu(gate(x)) * up(x)))")
            }
            out.append(BlockAnatomy(index: b, ops: range, input: input, output: ops[j - 1].result, attention: attention,
                                    gate: gate, up: up, down: down))
            i = j
        }
        return out
    }
}
